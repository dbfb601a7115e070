import { describe, expect, it } from 'vitest';
import { parseScriptOrThrow } from './parser.js';
import { analyzeScriptShell, analyzeShell, evalArithmetic } from './sysctl.js';

const pairs = (text: string): [string, string][] => analyzeShell(text).settings.map((s) => [s.name, s.value]);

describe('analyzeShell', () => {
  it('reads sysctl assignments, several per line, with quotes and arithmetic', () => {
    expect(pairs('sysctl -q net.ipv4.tcp_timestamps=0')).toEqual([['net.ipv4.tcp_timestamps', '0']]);
    expect(pairs('sysctl -q net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1')).toEqual([
      ['net.ipv4.tcp_early_retrans', '4'],
      ['net.ipv4.tcp_recovery', '1'],
    ]);
    expect(pairs('sysctl -q net.ipv4.tcp_rmem="4096 540000 $((15*1024*1024))"')).toEqual([['net.ipv4.tcp_rmem', '4096 540000 15728640']]);
    expect(pairs('sysctl -e -q net/ipv4/tcp_pacing_ss_ratio=200 > /dev/null 2>&1')).toEqual([['net.ipv4.tcp_pacing_ss_ratio', '200']]);
    expect(pairs("sysctl -w net.ipv4.tcp_congestion_control='reno'")).toEqual([['net.ipv4.tcp_congestion_control', 'reno']]);
  });

  it('reads set_sysctls.py and echo into /proc/sys, with continuations and comments', () => {
    expect(pairs('../common/set_sysctls.py \\\n\t/proc/sys/net/ipv4/tcp_mtu_probing=2 \\\n\t/proc/sys/net/ipv4/tcp_wmem="4096 50000 4194304"')).toEqual([
      ['net.ipv4.tcp_mtu_probing', '2'],
      ['net.ipv4.tcp_wmem', '4096 50000 4194304'],
    ]);
    expect(pairs('echo 3 > /proc/sys/net/ipv4/tcp_ecn # comment')).toEqual([['net.ipv4.tcp_ecn', '3']]);
    expect(pairs('echo 3 > /sys/module/tcp_cubic/parameters/hystart_detect')).toEqual([['/sys/module/tcp_cubic/parameters/hystart_detect', '3']]);
  });

  it('reports lines it does not understand, with their line numbers', () => {
    const a = analyzeShell('ip tcp_metrics flush all > /dev/null 2>&1\n\n# c\ntc qdisc add dev tun0 root pfifo\nnstat | grep X\nsysctl net.ipv4.tcp_sack\n/tmp/sysctl_restore_${PPID}.sh', { line: 10 });
    expect(a.settings).toEqual([]);
    expect(a.ignored.map((i) => [i.line, i.reason])).toEqual([
      [10, "unrecognised command 'ip'"],
      [13, "unrecognised command 'tc'"],
      [14, 'pipeline'],
      [15, 'sysctl without name=value (a read)'],
      [16, 'restores sysctls saved by set_sysctls.py (a fresh stack needs nothing)'],
    ]);
  });

  it('splits command lists and keeps both sides', () => {
    const a = analyzeShell('sysctl -q net.ipv4.tcp_sack=0 &> /dev/null ||\\\n  ip tcp_metrics flush all; sysctl -q net.ipv4.tcp_dsack=0');
    expect(a.items.map((i) => i.kind)).toEqual(['setting', 'ignored', 'setting']);
  });

  it('expands defaults.sh in place when given a reader, and lists it otherwise', () => {
    const read = (p: string): string | null => (p === '../common/defaults.sh' ? '#!/bin/bash\nsysctl -q net.ipv4.tcp_sack=1\n' : null);
    const script = parseScriptOrThrow('`../common/defaults.sh\nsysctl -q net.ipv4.tcp_sack=0`\n0 f() = 0\n');
    const expanded = analyzeScriptShell(script, read);
    expect(expanded.items.map((i) => (i.kind === 'setting' ? `${i.name}=${i.value}@${i.file ?? 'script'}:${i.line}` : i.kind))).toEqual([
      'include',
      'net.ipv4.tcp_sack=1@../common/defaults.sh:2',
      'net.ipv4.tcp_sack=0@script:2',
    ]);
    expect(analyzeScriptShell(script).includes).toEqual([{ kind: 'include', path: '../common/defaults.sh', line: 1, file: null }]);
  });
});

describe('evalArithmetic', () => {
  it('does integer shell arithmetic', () => {
    expect(evalArithmetic('15*1024*1024')).toBe(15728640);
    expect(evalArithmetic('256*1024')).toBe(262144);
    expect(evalArithmetic('(1+2)*3 - 7/2 % 5')).toBe(6);
    expect(evalArithmetic('-4+1')).toBe(-3);
    expect(evalArithmetic('1/0')).toBeNull();
    expect(evalArithmetic('x+1')).toBeNull();
    expect(evalArithmetic('(1')).toBeNull();
  });
});
