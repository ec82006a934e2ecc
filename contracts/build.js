#!/usr/bin/env node
// Compiles contracts/*.sol with the pinned solcjs into chain/artifacts/<Contract>.json.
// Output is deterministic (fixed settings, stable key order, no timestamps) so that CI can
// rebuild and `git diff --exit-code chain/artifacts` proves the committed artifacts are fresh.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const CONTRACTS_DIR = __dirname;
const ARTIFACTS_DIR = path.join(__dirname, "..", "chain", "artifacts");
const DEPLOYABLE = ["IdentityRegistry", "Compliance", "SecurityToken"];
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "shanghai",
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

function sha256(text) {
  return crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

// Same rule as chain/artifacts.py: sorted *.sol names, CRLF folded to LF, manifest hashed.
function readSources() {
  const names = fs.readdirSync(CONTRACTS_DIR).filter((n) => n.endsWith(".sol")).sort();
  const sources = {};
  const fileHashes = {};
  for (const name of names) {
    const content = fs.readFileSync(path.join(CONTRACTS_DIR, name), "utf8").replace(/\r\n/g, "\n");
    sources[name] = { content };
    fileHashes[name] = sha256(content);
  }
  const manifest = names.map((n) => `${n}\n${fileHashes[n]}\n`).join("");
  return { sources, fileHashes, sourcesSha256: sha256(manifest) };
}

function compile(sources) {
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = output.errors || [];
  for (const problem of problems) console.error(problem.formattedMessage);
  if (problems.some((p) => p.severity === "error")) process.exit(1);
  return output.contracts;
}

function main() {
  const { sources, fileHashes, sourcesSha256 } = readSources();
  const compiled = compile(sources);
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const contractName of DEPLOYABLE) {
    const unit = compiled[`${contractName}.sol`][contractName];
    const artifact = {
      contractName,
      sourceName: `${contractName}.sol`,
      compiler: { name: "solc", version: solc.version() },
      settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
      sourcesSha256,
      sources: fileHashes,
      abi: unit.abi,
      bytecode: "0x" + unit.evm.bytecode.object,
      deployedBytecode: "0x" + unit.evm.deployedBytecode.object,
    };
    const target = path.join(ARTIFACTS_DIR, `${contractName}.json`);
    fs.writeFileSync(target, JSON.stringify(artifact, null, 2) + "\n");
    const size = unit.evm.deployedBytecode.object.length / 2;
    console.log(`${contractName}: ${size} bytes runtime -> ${path.relative(process.cwd(), target)}`);
  }
}

main();
