export type {
  Action,
  AssignTarget,
  Direction,
  Ecn,
  EventTime,
  Expression,
  IcmpEchoed,
  IcmpPacketSpec,
  IpInfo,
  MaybeWild,
  PacketSpec,
  Script,
  ScriptEvent,
  ScriptOption,
  SeqSpec,
  SyscallSpec,
  TcpOptionSpec,
  TcpPacketSpec,
  TimePoint,
  UdpPacketSpec,
} from './ast.js';
export { ScriptSyntaxError } from './errors.js';
export { secondsTextToUsecs, tokenize, type Token, type TokenType } from './lexer.js';
export {
  parseExpression,
  parseScript,
  parseScriptOrThrow,
  type ParseScriptOptions,
  type ParseScriptResult,
} from './parser.js';
export {
  formatAction,
  formatEvent,
  formatEventTime,
  formatExpression,
  formatIpInfo,
  formatOption,
  formatPacket,
  formatSeconds,
  formatSeq,
  formatSyscall,
  formatTcpOption,
  formatTcpOptions,
  printScript,
  type PrintScriptOptions,
} from './printer.js';
export {
  analyzeScriptShell,
  analyzeShell,
  evalArithmetic,
  type AnalyzeShellOptions,
  type IgnoredShellCommand,
  type ShellAnalysis,
  type ShellInclude,
  type ShellItem,
  type SysctlSetting,
} from './sysctl.js';
export { flagNames, intValue, structField, structFieldArgs } from './expr.js';
