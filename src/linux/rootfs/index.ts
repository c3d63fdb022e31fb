/**
 * Root filesystem of the container: a pure plan built from config.json on the
 * host side (plan.ts), applied by the init stage inside the container's mount
 * namespace (setup.ts) with fd-anchored path resolution (resolve.ts).
 */
export {
  MOUNT_OPTIONS, DEFAULT_DEVICES, DEFAULT_DEV_SYMLINKS, planRootfs, parseMountOptions, parsePropagation, cleanContainerPath,
  type RootfsPlan, type RootfsOptions, type MountStep, type DeviceNode, type DevSymlink, type Propagation, type AttrChange,
  type DataOption, type IdmapSpec, type CgroupSpec, type CgroupBind, type CgroupMode, type ParsedOptions,
} from './plan.js';
export { prepareRootfs, enterRootfs, finishRootfs, mountConsole, type PrepareEnv } from './setup.js';
