// Stand-in entry point: the behaviour lives in artifacts.py (act copies this directory
// alone, so the tests name its folder in $ACT_STANDINS).
const { spawnSync } = require("child_process");
const path = require("path");
const script = path.join(process.env.ACT_STANDINS || path.join(__dirname, ".."), "artifacts.py");
const run = spawnSync("python3", [script, "deploy-pages"], { stdio: "inherit" });
process.exit(run.status === null ? 1 : run.status);
