export * from './igmp-host.js';
