/** The frame of every page: language, viewport, our stylesheet, a skip link and one <main>. */

import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { STYLESHEET_PATH } from "./style";

export const PRODUCT_NAME = "edge-oidc";

export function Layout(props: { title: string; children?: Child }) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>{`${props.title} · ${PRODUCT_NAME}`}</title>
          <link rel="stylesheet" href={STYLESHEET_PATH} />
          {/* No favicon request (it would only 404). */}
          <link rel="icon" href="data:," />
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="site">
            <a href="/">{PRODUCT_NAME}</a>
          </header>
          <main id="main">{props.children}</main>
        </body>
      </html>
    </>
  );
}
