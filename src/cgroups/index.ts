/** The cgroup library: host detection, path resolution, resource plans and the manager. */

export { detectCgroups, parseCgroupMounts, hostFromMounts, parseProcCgroup, ownCgroups, v1HierarchyOf } from './detect.js';
export type { CgroupMode, HostCgroups, V1Hierarchy, V2Hierarchy, CgroupMount } from './detect.js';
export { cleanCgroupsPath, defaultCgroupsPath, resolveCgroupPaths, DEFAULT_CGROUP_PARENT } from './paths.js';
export { cpuSharesToWeight, blkioWeightToIoWeight, memorySwapToV2, parsePageSize, parseCpuList } from './convert.js';
export { containerDeviceRules, DEFAULT_ALLOWED_DEVICES, devicesV1Writes, emulateDevices, deviceAllowed, toDeviceRule, ruleString } from './devices.js';
export type { DeviceRule, DeviceState } from './devices.js';
export { deviceProgram, encodeProgram, attachDeviceFilter, queryDevicePrograms } from './bpf.js';
export { planV1, planV2, checkUnifiedKey } from './plan.js';
export type { PlanEntry, V1PlanEntry, V2PlanEntry, PlanContext } from './plan.js';
export { cgroupManager, cgroupManagerFromRecord, controllersToEnable } from './manager.js';
export type { CgroupManager, CgroupRecord, SetOptions, ManagerOptions } from './manager.js';
export type { CgroupStats } from './stats.js';
