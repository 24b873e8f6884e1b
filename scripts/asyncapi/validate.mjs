// Validates AsyncAPI documents with the official parser (@asyncapi/parser 3).
// Usage: node validate.mjs FILE...  Prints each diagnostic as one JSON line on stdout;
// exits 1 when any document has an error (severity 0), 0 otherwise.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
let errors = 0;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(await readFile(file, "utf8"), { source: file });
  for (const diagnostic of diagnostics) {
    if (diagnostic.severity === 0) errors += 1;
    console.log(JSON.stringify({ file, severity: diagnostic.severity, code: diagnostic.code, path: diagnostic.path.join("."), message: diagnostic.message }));
  }
  if (document === undefined && !diagnostics.some((d) => d.severity === 0)) errors += 1;
}
process.exit(errors > 0 ? 1 : 0);
