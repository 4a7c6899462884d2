/** The fields of a posted page form, repeated names kept (scope checkboxes share one name). */
export class FormFields {
  constructor(private readonly params: URLSearchParams) {}

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  getAll(name: string): string[] {
    return this.params.getAll(name);
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
