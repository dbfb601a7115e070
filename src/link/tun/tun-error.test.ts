import { describe, expect, it } from 'vitest';
import { checkTunName, errnoCode, TunError, tunErrorMessage, tunSyscallError } from './tun-error.js';

describe('TUN errors: errno -> an actionable message', () => {
  it('EPERM on TUNSETIFF: run as root or grant CAP_NET_ADMIN', () => {
    const m = tunErrorMessage('ioctl(TUNSETIFF)', 1, 'tun7');
    expect(m).toMatch(/^ioctl\(TUNSETIFF\) EPERM tun7: /);
    expect(m).toContain('run as root or grant CAP_NET_ADMIN');
    expect(m).toContain('ip tuntap add dev tun7 mode tun user');
  });

  it('a %d template is not suggested as a device to create', () => {
    expect(tunErrorMessage('ioctl(TUNSETIFF)', 1, 'tun%d')).toContain('ip tuntap add dev tun0 ');
  });

  it('EBUSY: another process holds the device', () => {
    expect(tunErrorMessage('ioctl(TUNSETIFF)', 16, 'tun0')).toContain('another process holds tun device tun0');
  });

  it('EINVAL: a non-TUN interface of that name', () => {
    expect(tunErrorMessage('ioctl(TUNSETIFF)', 22, 'eth0')).toContain('not a TUN device');
  });

  it('no /dev/net/tun: load the module or create the node', () => {
    const m = tunErrorMessage('open', 2, 'tun0', '/dev/net/tun');
    expect(m).toMatch(/^open ENOENT \/dev\/net\/tun: /);
    expect(m).toContain('modprobe tun');
    expect(m).toContain('mknod /dev/net/tun c 10 200');
    expect(tunErrorMessage('open', 19, 'tun0')).toContain('modprobe tun');
  });

  it('no permission on the node', () => {
    expect(tunErrorMessage('open', 13, 'tun0')).toContain('no permission to open the TUN device node');
  });

  it('a vanished device on read or write', () => {
    expect(tunErrorMessage('read', 77, 'tun0')).toBe('read EBADFD tun0: the TUN device "tun0" is gone (deleted, or its network namespace was removed)');
  });

  it('anything else: the strerror text, never an empty message', () => {
    expect(tunErrorMessage('ioctl(TUNSETIFF)', 12, 'tun0')).toContain('out of memory');
    expect(tunErrorMessage('write', 28, 'tun0')).toBe('write ENOSPC tun0: No space left on device');
    expect(tunErrorMessage('write', 4000, 'tun0')).toBe('write E4000 tun0: E4000');
  });

  it('errno numbers of either sign map to names', () => {
    expect(errnoCode(1)).toBe('EPERM');
    expect(errnoCode(-16)).toBe('EBUSY');
    expect(errnoCode(77)).toBe('EBADFD');
  });

  it('tunSyscallError has the shape of a Node system error', () => {
    const cause = new Error('inner');
    const e = tunSyscallError('ioctl(TUNSETIFF)', -16, { device: 'tun3', cause });
    expect(e).toBeInstanceOf(TunError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'TunError', code: 'EBUSY', errno: -16, syscall: 'ioctl(TUNSETIFF)', device: 'tun3' });
    expect(e.cause).toBe(cause);
  });
});

describe('TUN device names', () => {
  it('accepts names the kernel accepts', () => {
    for (const n of ['tun0', 'a', 'x'.repeat(15), 'tun%d', '', 'sock-stack_1.2']) expect(checkTunName(n)).toBeUndefined();
  });

  it('rejects what dev_valid_name() rejects, saying why', () => {
    expect(checkTunName('x'.repeat(16))?.message).toContain('16 bytes long, and interface names have at most 15');
    // Bytes, not characters: 8 two-byte characters are 16 bytes.
    expect(checkTunName('é'.repeat(8))?.message).toContain('16 bytes long');
    expect(checkTunName('.')?.code).toBe('EINVAL');
    expect(checkTunName('..')?.code).toBe('EINVAL');
    for (const n of ['a/b', 'a:b', 'a b', 'tab\t']) expect(checkTunName(n)?.message).toContain('cannot contain');
    expect(checkTunName('tun%s')?.message).toContain('one "%d"');
    expect(checkTunName('t%d%d')?.message).toContain('one "%d"');
  });
});
