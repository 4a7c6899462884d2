/** A user-facing error: what went wrong in plain words, and a way on. Never a stack trace. */
import { Layout } from "./layout";

export interface ErrorPageProps {
  title: string;
  message: string;
  /** Shown as a small reference; the caller also passes it to renderPage as the HTTP status. */
  status?: number;
  /** Where to go on from here; the home page when absent. */
  next?: { href: string; label: string };
}

export function ErrorPage(props: ErrorPageProps) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p class="notice error" role="alert">
        {props.message}
      </p>
      {props.status ? <p class="muted">Error {props.status}</p> : null}
      <p>
        <a href={props.next?.href ?? "/"}>{props.next?.label ?? "Go to the home page"}</a>
      </p>
    </Layout>
  );
}
