#!/usr/bin/env node
// Thin launcher: the command line lives in runner/cli.ts (compiled to dist/ by `npm run build`).
require("../dist/runner/cli.js");
