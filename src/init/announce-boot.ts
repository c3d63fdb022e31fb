/**
 * The first module of the init and exec-stage bundles (imported first by
 * src/init/main.ts and src/init/exec-main.ts): tells the CLI that node has
 * booted — its start-up threads exist — before the rest of the bundle (koffi
 * included) is loaded, so the CLI's cgroup writes overlap with that loading.
 * docs/protocol.md, "Why the cgroups are joined after the start".
 */
import { writeSync } from 'node:fs';
import { BOOT_ENV } from '../protocol/boot-env.js';

const fd = Number(process.env[BOOT_ENV.SYNC_FD]);
if (Number.isInteger(fd) && fd >= 0) writeSync(fd, '{"type":"booted"}\n');
