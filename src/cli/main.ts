#!/usr/bin/env node
/** The `sockstack` command: a tiny dispatcher; each subcommand lives in its own file. */
import { packetdrillMain } from './packetdrill.js';

const commands: Readonly<Record<string, (args: readonly string[]) => Promise<number>>> = {
  packetdrill: (args) => packetdrillMain(args),
  // Loaded on demand: serve pulls in the TUN link and HTTP server.
  serve: async (args) => (await import('./serve.js')).main(args),
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = name === undefined ? undefined : commands[name];
  if (cmd === undefined) {
    console.error(`usage: sockstack <${Object.keys(commands).join('|')}> ...`);
    return 2;
  }
  return cmd(rest);
}

process.exitCode = await main(process.argv.slice(2));
