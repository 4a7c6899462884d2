/** The fields of a posted settings form, repeated names kept (scope checkboxes share one name). */
import type { Context } from "hono";

export class FormFields {
  private constructor(private readonly fields: Map<string, string[]>) {}

  /** Null when the body is not a form that can be parsed. */
  static async read(c: Context): Promise<FormFields | null> {
    let body: Record<string, unknown>;
    try {
      body = await c.req.parseBody({ all: true });
    } catch {
      return null;
    }
    const fields = new Map<string, string[]>();
    for (const [name, value] of Object.entries(body)) {
      const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
      fields.set(name, values);
    }
    return new FormFields(fields);
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    return this.fields.get(name)?.[0];
  }

  getAll(name: string): string[] {
    return this.fields.get(name) ?? [];
  }

  /** A checkbox: ticked when present with the value "yes". */
  ticked(name: string): boolean {
    return this.get(name) === "yes";
  }

  /** A textarea of one entry per line, blanks dropped. */
  lines(name: string): string[] {
    return (this.get(name) ?? "")
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
  }
}
