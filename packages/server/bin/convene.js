#!/usr/bin/env node
// The `convene` command. Runs the built CLI (npm install builds it through the root `prepare`).
import { run } from '../dist/cli.js';

await run();
