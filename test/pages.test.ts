/**
 * The page components the authorization endpoint renders (consent, error), and renderPage's headers.
 * Markup is read with workerd's own HTML parser (HTMLRewriter), not with regular expressions.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../src/http/context";
import { ConsentPage, type ConsentPageProps } from "../src/pages/consent";
import { ErrorPage } from "../src/pages/error";
import { renderPage } from "../src/pages/render";
import { contentSecurityPolicy, formActionSource } from "../src/pages/security-headers";

const XSS = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

function consentProps(overrides: Partial<ConsentPageProps> = {}): ConsentPageProps {
  return {
    clientName: "Acme CLI",
    clientId: "client_123",
    clientOrigin: "admin",
    redirectHost: "app.acme.example",
    localhostOnlyRedirect: false,
    userEmail: "member@example.com",
    teamName: "Demo",
    roles: { role: "member", onCallRole: "responder" },
    scopes: [
      { scope: "openid", description: "Confirm who you are", grantable: true, previouslyGranted: true },
      {
        scope: "ir.incidents:read",
        description: "View incident response incidents",
        grantable: true,
        previouslyGranted: false,
      },
      {
        scope: "ir.services:write",
        description: "Create, change and delete incident response services",
        grantable: false,
        previouslyGranted: false,
      },
    ],
    action: "/oauth/authorize/decision",
    hidden: { client_id: "client_123", state: "s&t", request_id: "req_1" },
    csrf: "csrf-token-value",
    ...overrides,
  };
}

type Attributes = Record<string, string>;

/** HTMLRewriter hands attribute values over raw: decode the entities hono/jsx writes, as a browser would. */
const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
const decode = (value: string) => value.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);

/** Attributes of every element matching `selector`, in document order, entity-decoded. */
async function elements(html: string, selector: string): Promise<Attributes[]> {
  const found: Attributes[] = [];
  await new HTMLRewriter()
    .on(selector, {
      element: (e) => void found.push(Object.fromEntries([...e.attributes].map(([n, v]) => [n, decode(v ?? "")]))),
    })
    .transform(new Response(html))
    .text();
  return found;
}

/** Raw text inside the elements matching `selector` (entities still encoded). */
async function textOf(html: string, selector: string): Promise<string> {
  let text = "";
  await new HTMLRewriter()
    .on(selector, {
      text: (t) => {
        text += t.text;
      },
    })
    .transform(new Response(html))
    .text();
  return text;
}

const render = (page: { toString(): unknown }) => String(page.toString());

describe("ConsentPage (RFC 6749 §4.1.1 step 2: the consent page)", () => {
  it("escapes a hostile client name, redirect host, client id, scope text and hidden values", async () => {
    const html = render(
      ConsentPage(
        consentProps({
          clientName: XSS,
          clientId: `https://evil.example/${XSS}`,
          clientOrigin: "metadata_document",
          redirectHost: XSS,
          teamName: XSS,
          userEmail: XSS,
          scopes: [{ scope: "openid", description: XSS, grantable: true, previouslyGranted: false }],
          hidden: { 'x"><script>': XSS },
        }),
      ),
    );
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(await elements(html, "script")).toHaveLength(0);
    // The payload survives as data: the hidden field posts back exactly what was given.
    const hidden = await elements(html, 'input[type="hidden"]');
    expect(hidden.some((h) => h.value === XSS)).toBe(true);
    expect(await textOf(html, "h1")).toContain("&lt;script&gt;");
  });

  it("shows the client's name and redirect host, and posts to the given action", async () => {
    const html = render(ConsentPage(consentProps()));
    expect(await textOf(html, "h1")).toContain("Acme CLI");
    expect(html).toContain("app.acme.example");
    const [form] = await elements(html, "form");
    expect(form).toMatchObject({ method: "post", action: "/oauth/authorize/decision" });
  });

  it("offers each grantable scope as a ticked box inside its area, and names ungrantable ones once, unoffered", async () => {
    const html = render(ConsentPage(consentProps()));
    const boxes = await elements(html, 'input[type="checkbox"][name="scope"]');
    // ir.services:write is beyond the member's role: no box for it at all, so it cannot be ticked.
    expect(boxes.map((b) => b.value)).toEqual(["openid", "ir.incidents:read"]);
    expect(boxes.every((b) => "checked" in b && !("disabled" in b))).toBe(true);
    // One switch per area that has something to grant, ticked (scope-groups.ts reads them).
    const areas = await elements(html, 'input[type="checkbox"][name="area"]');
    expect(areas.map((a) => [a.value, "checked" in a])).toEqual([
      ["signin", true],
      ["ir", true],
    ]);
    // The rows sit in a <details> per area (closed: no `open`), the summary line outside it.
    expect(await elements(html, "details")).toHaveLength(2);
    expect((await elements(html, "details[open]")).length).toBe(0);
    expect(await textOf(html, "#area-ir-summary")).toContain("View incidents");
    // The ungrantable scope is named once in its area, with the role that decides it.
    const why = await textOf(html, "#area-ir-why");
    expect(why).toContain("incident response role (member)");
    expect(why).toContain("change services");
    // Every checkbox has a label.
    const labels = await elements(html, "label");
    for (const box of [...boxes, ...areas]) expect(labels.some((l) => l.for === box.id)).toBe(true);
  });

  it("says what an area gives in one line with its level, and lists each resource with view/change boxes", async () => {
    const scopes = ["ir.incidents:read", "ir.incidents:write", "ir.services:read", "ir.severities:read"].map(
      (scope) => ({
        scope,
        description: scope,
        grantable: true,
        previouslyGranted: false,
      }),
    );
    const html = render(ConsentPage(consentProps({ scopes })));
    expect(await textOf(html, "#area-ir-summary")).toContain(
      "View incidents, services and severities and change incidents",
    );
    expect(await textOf(html, 'label[for="area-ir"]')).toContain("view and change");
    const incidents = await elements(html, 'ul.resources input[value^="ir.incidents"]');
    expect(incidents.map((i) => i.value)).toEqual(["ir.incidents:read", "ir.incidents:write"]);
  });

  it("marks previously granted scopes", async () => {
    const html = render(ConsentPage(consentProps()));
    expect(await textOf(html, "#area-signin-group li")).toContain("allowed before");
    expect(await textOf(html, "#area-ir-group li")).not.toContain("allowed before");
  });

  it("has two submit buttons named decision: approve and deny", async () => {
    const html = render(ConsentPage(consentProps()));
    const buttons = await elements(html, "button");
    expect(buttons.map((b) => [b.type, b.name, b.value])).toEqual([
      ["submit", "decision", "approve"],
      ["submit", "decision", "deny"],
    ]);
  });

  it("carries the request parameters and the CSRF token as hidden inputs", async () => {
    const html = render(ConsentPage(consentProps()));
    const hidden = Object.fromEntries((await elements(html, 'input[type="hidden"]')).map((h) => [h.name, h.value]));
    expect(hidden).toEqual({ client_id: "client_123", state: "s&t", request_id: "req_1", csrf: "csrf-token-value" });
  });

  it("warns when the redirect is localhost-only, and not otherwise", async () => {
    const local = render(ConsentPage(consentProps({ localhostOnlyRedirect: true, redirectHost: "127.0.0.1:53682" })));
    expect(local).toContain("runs on your own computer");
    expect(local).toContain("127.0.0.1:53682");
    expect(render(ConsentPage(consentProps()))).not.toContain("runs on your own computer");
  });

  it("warns about self-registered and metadata-document clients, not admin-created ones", async () => {
    expect(render(ConsentPage(consentProps({ clientOrigin: "registered" })))).toContain("registered itself");
    const cimd = render(
      ConsentPage(consentProps({ clientOrigin: "metadata_document", clientId: "https://app.example/client.json" })),
    );
    expect(cimd).toContain("https://app.example/client.json");
    expect(cimd).toContain("chosen by whoever controls that address");
    const admin = render(ConsentPage(consentProps()));
    expect(admin).not.toContain("registered itself");
    expect(admin).not.toContain("whoever controls");
  });

  it("shows a logo only from an https URL", async () => {
    const https = render(ConsentPage(consentProps({ logoUri: "https://cdn.example/logo.png" })));
    expect(await elements(https, "img")).toEqual([
      { src: "https://cdn.example/logo.png", alt: "", width: "48", height: "48" },
    ]);
    for (const logoUri of ["javascript:alert(1)", "http://cdn.example/logo.png", "not a url"]) {
      expect(await elements(render(ConsentPage(consentProps({ logoUri }))), "img")).toHaveLength(0);
    }
  });

  it("is a complete, accessible document (lang, viewport, title, one main, stylesheet link)", async () => {
    const html = render(ConsentPage(consentProps()));
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(await elements(html, "html")).toEqual([{ lang: "en" }]);
    expect(await elements(html, 'meta[name="viewport"]')).toHaveLength(1);
    expect(await textOf(html, "title")).toContain("Acme CLI");
    expect(await elements(html, "main")).toHaveLength(1);
    expect(await elements(html, "style")).toHaveLength(0); // CSP style-src 'self': no inline styles
    expect(await elements(html, "[style]")).toHaveLength(0);
  });
});

describe("ErrorPage", () => {
  it("escapes its title and message", async () => {
    const html = render(ErrorPage({ title: XSS, message: `redirect_uri ${XSS} is not registered`, status: 400 }));
    expect(html).not.toContain("<script>");
    expect(await elements(html, "script")).toHaveLength(0);
    expect(await textOf(html, "h1")).toContain("&lt;script&gt;");
    expect(await textOf(html, '[role="alert"]')).toContain("is not registered");
    expect(html).toContain("Error 400");
  });
});

describe("renderPage and the page security headers", () => {
  const pageApp = new Hono<AppEnv>();
  pageApp.get("/error", (c) => renderPage(c, ErrorPage({ title: "Invalid client", message: "Unknown client." }), 400));
  pageApp.get("/consent", (c) =>
    renderPage(c, ConsentPage(consentProps()), 200, { formTargets: ["http://127.0.0.1:53682/callback"] }),
  );

  it("sends the status, HTML and every security header", async () => {
    const res = await pageApp.request("/error");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toBe(contentSecurityPolicy());
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    // same-origin, not no-referrer: Chromium sends Origin: null on same-origin form posts under no-referrer.
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets the consent form's redirect reach the client (form-action lists the redirect origin)", async () => {
    const res = await pageApp.request("/consent");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("form-action 'self' http://127.0.0.1:53682;");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it("writes a CSP source for each kind of redirect URI (RFC 8252 §7)", () => {
    expect(formActionSource("https://app.example/cb?x=1")).toBe("https://app.example");
    expect(formActionSource("http://localhost:8080/cb")).toBe("http://localhost:8080");
    expect(formActionSource("com.example.app:/oauth2redirect")).toBe("com.example.app:");
    expect(formActionSource("http://[::1]:9000/cb")).toBe("http:"); // CSP cannot name IPv6 hosts
    expect(formActionSource("not a url")).toBeUndefined();
    expect(formActionSource("https://a.example/;script-src *")).toBe("https://a.example");
    expect(contentSecurityPolicy({ formTargets: ["https://a.example/1", "https://a.example/2"] })).toContain(
      "form-action 'self' https://a.example;",
    );
  });
});
