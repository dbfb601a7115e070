/**
 * Linux network namespaces for real-network tests and benchmarks, without
 * vitest (bench/ imports this; tests import ./netns.ts, which adds the
 * vitest glue). The Linux side of an interop test lives in a namespace the
 * test creates, with only private addresses and no route out, and
 * everything is removed afterwards even when a test fails or the process
 * exits early.
 *
 * The sockstack process stays in the root namespace. Its TUN device is
 * created there (openTun) and then moved into the test namespace with
 * `ip link set dev X netns NS`: the open fd keeps working across the move
 * (the fd belongs to the device, not to a namespace), so packets the
 * namespace routes to X arrive on our fd. Nothing of the test is visible in
 * the root namespace after the move.
 *
 *   const gate = canUseNetns();
 *   if (!gate.ok) skip(gate.reason);
 *   const ns = createNetns();            // ss-<pid>-<n>
 *   ns.adoptLink(link.name, { address: '10.99.0.1/24' });
 *   const r = await ns.run('ping', ['-c', '3', '10.99.0.2']);
 *   ns.destroy();                         // also done at process exit
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

export type Availability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const IP = 'ip';
const PREFIX = 'ss-';

function sh(cmd: string, args: readonly string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.error !== undefined) return { status: null, stdout: '', stderr: String(r.error) };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let cachedAvailability: Availability | undefined;

/**
 * Whether this process can run namespace tests: root, `ip netns` works (a
 * probe namespace is created and removed), /dev/net/tun exists, and the
 * tools the tests call are installed. The reason names what is missing.
 */
export function canUseNetns(tools: readonly string[] = ['ping']): Availability {
  if (cachedAvailability !== undefined && !cachedAvailability.ok) return cachedAvailability;
  const fail = (reason: string): Availability => (cachedAvailability = { ok: false, reason });
  if (process.platform !== 'linux') return fail(`network namespaces need Linux (this is ${process.platform})`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return fail('not running as root (network namespaces and TUN devices need root)');
  if (!existsSync('/dev/net/tun')) return fail('/dev/net/tun is missing (load the tun module: modprobe tun)');
  if (sh(IP, ['-V']).status !== 0) return fail('the ip command (iproute2) is not installed');
  for (const tool of tools) {
    if (sh('sh', ['-c', `command -v ${tool}`]).status !== 0) return fail(`${tool} is not installed`);
  }
  if (cachedAvailability === undefined) {
    const probe = `${PREFIX}${process.pid}-probe`;
    const add = sh(IP, ['netns', 'add', probe]);
    if (add.status !== 0) return fail(`\`ip netns add\` failed: ${add.stderr.trim() || add.status}`);
    const exec = sh(IP, ['netns', 'exec', probe, 'true']);
    sh(IP, ['netns', 'del', probe]);
    if (exec.status !== 0) return fail(`\`ip netns exec\` failed: ${exec.stderr.trim() || exec.status}`);
    cachedAvailability = { ok: true };
  }
  return cachedAvailability;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AdoptOptions {
  /** The Linux end's address in the namespace, e.g. '10.99.0.1/24'. */
  readonly address?: string;
  readonly mtu?: number;
  /** Keep IPv6 on the device (router solicitations and the like). Default false: IPv4-only traffic. */
  readonly ipv6?: boolean;
}

const live = new Set<Netns>();
let counter = 0;
let hooksInstalled = false;

export class Netns {
  readonly name: string;
  readonly #children = new Set<ChildProcess>();
  #destroyed = false;

  constructor(name: string) {
    this.name = name;
  }

  /** Runs a command inside the namespace and waits for it, without blocking the event loop (the stack under test runs on it). */
  run(cmd: string, args: readonly string[] = [], options: { timeoutMs?: number; input?: string | Uint8Array } = {}): Promise<RunResult> {
    const child = this.spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
    const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    return new Promise((resolve, reject) => {
      child.on('error', (e) => {
        clearTimeout(timeout);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timeout);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** Like run(), but rejects with the output when the command fails. */
  async check(cmd: string, args: readonly string[] = [], options: { timeoutMs?: number } = {}): Promise<string> {
    const r = await this.run(cmd, args, options);
    if (r.code !== 0) {
      throw new Error(`[netns ${this.name}] ${cmd} ${args.join(' ')} exited with ${r.code ?? r.signal}\n${r.stdout}${r.stderr}`);
    }
    return r.stdout;
  }

  /** Starts a long-running process in the namespace (a server); it is killed at destroy(). */
  spawn(cmd: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
    if (this.#destroyed) throw new Error(`netns ${this.name} is destroyed`);
    const child = spawn(IP, ['netns', 'exec', this.name, cmd, ...args], options);
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  /** Synchronous `ip netns exec NS cmd args`, for quick setup steps; throws on failure. */
  execSync(cmd: string, args: readonly string[] = []): string {
    const r = sh(IP, ['netns', 'exec', this.name, cmd, ...args]);
    if (r.status !== 0) throw new Error(`[netns ${this.name}] ${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** `ip -n NS args`; throws on failure. */
  ip(...args: string[]): string {
    const r = sh(IP, ['-n', this.name, ...args]);
    if (r.status !== 0) throw new Error(`ip -n ${this.name} ${args.join(' ')} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /**
   * Moves the root-namespace interface `dev` (e.g. a TUN device we hold
   * open) into this namespace, and configures it there: address, MTU, up.
   */
  adoptLink(dev: string, options: AdoptOptions = {}): void {
    const r = sh(IP, ['link', 'set', 'dev', dev, 'netns', this.name]);
    if (r.status !== 0) throw new Error(`moving ${dev} into netns ${this.name} failed: ${r.stderr.trim()}`);
    if (options.ipv6 !== true) this.execSync('sysctl', ['-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
    if (options.mtu !== undefined) this.ip('link', 'set', 'dev', dev, 'mtu', String(options.mtu));
    if (options.address !== undefined) this.ip('addr', 'add', options.address, 'dev', dev);
    this.ip('link', 'set', 'dev', dev, 'up');
  }

  /** Kills the processes started here and deletes the namespace (and the devices in it). Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    live.delete(this);
    for (const child of this.#children) child.kill('SIGKILL');
    // Processes started by other means (ip netns exec in a shell) would keep it alive: kill them too.
    const pids = sh(IP, ['netns', 'pids', this.name]).stdout.split(/\s+/).filter((p) => p !== '');
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    sh(IP, ['netns', 'del', this.name]);
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // At exit for a process that dies or is torn down without its own cleanup
  // running (spawnSync works in 'exit'), and on SIGINT/SIGTERM.
  process.on('exit', () => destroyAllNetns());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      destroyAllNetns();
      process.kill(process.pid, sig);
    });
  }
}

/** Deletes namespaces of ours left by processes that are gone (e.g. a worker killed with SIGKILL). */
function reapStale(): void {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^ss-(\d+)-/.exec(n);
    if (m === null || Number(m[1]) === process.pid) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      alive = false;
    }
    if (!alive) sh(IP, ['netns', 'del', n]);
  }
}

/** Creates a fresh namespace `ss-<pid>-<n>` with loopback up and nothing else: no devices, no routes out. */
export function createNetns(): Netns {
  installHooks();
  reapStale();
  const name = `${PREFIX}${process.pid}-${counter++}`;
  const r = sh(IP, ['netns', 'add', name]);
  if (r.status !== 0) throw new Error(`ip netns add ${name} failed: ${r.stderr.trim()}`);
  const ns = new Netns(name);
  live.add(ns);
  ns.ip('link', 'set', 'dev', 'lo', 'up');
  return ns;
}

export function destroyAllNetns(): void {
  for (const ns of [...live]) ns.destroy();
}

/** A TUN device name unique to this process: at most 15 bytes ('sst' + pid + counter). */
export function uniqueTunName(): string {
  const name = `sst${process.pid}x${counter++}`;
  return name.length <= 15 ? name : name.slice(-15);
}
