/**
 * `runts features` (src/spec/features.ts) against the spec 1.3 features
 * schema and features.md / features-linux.md: every section there is
 * answered, and the answers come from the code's own tables.
 */
import t from 'tap';
import * as fs from 'node:fs';
import { CAPABILITIES } from '../../../src/linux/capability-names.js';
import { MPOL_FLAGS, MPOL_MODES } from '../../../src/linux/mempolicy.js';
import { NAMESPACES } from '../../../src/linux/namespaces.js';
import { MOUNT_OPTIONS } from '../../../src/linux/rootfs/mount-options.js';
import { features } from '../../../src/spec/features.js';
import { featuresErrors } from '../../../src/spec/validate.js';
import { ensureValidators } from './setup.js';

t.before(ensureValidators);

const SPEC_DIR = process.env.RUNTS_SPEC_DIR ?? '/work/shared/oci-runtime-spec';
type Features = {
  ociVersionMax: string; mountOptions: string[]; potentiallyUnsafeConfigAnnotations: string[]; annotations: Record<string, string>;
  linux: Record<string, unknown> & { namespaces: string[]; capabilities: string[]; mountExtensions: { idmap: { enabled: boolean } }; memoryPolicy: { modes: string[]; flags: string[] } };
};
const f = features() as unknown as Features;

t.test('valid against the features schema', async (t) => {
  t.same(featuresErrors(f), [], 'no schema errors');
  t.equal(f.ociVersionMax, '1.3.0');
});

t.test('answers every section of features.md and features-linux.md', { skip: fs.existsSync(SPEC_DIR) ? false : `the runtime-spec is not at ${SPEC_DIR}` }, async (t) => {
  // top level: the bold field names of features.md; linux: its "## Title" sections
  const top = [...fs.readFileSync(`${SPEC_DIR}/features.md`, 'utf8').matchAll(/^\*\*`([A-Za-z]+)`\*\*/gm)].map((m) => m[1]!);
  t.ok(top.includes('potentiallyUnsafeConfigAnnotations'), 'features.md read');
  for (const k of new Set(top)) t.ok(k in f, `features.${k}`);
  const sections = [...fs.readFileSync(`${SPEC_DIR}/features-linux.md`, 'utf8').matchAll(/^## <a name="[^"]*" \/>(.+)$/gm)].map((m) => m[1]!.replace(/\s+/g, '').toLowerCase());
  t.ok(sections.length >= 10, `features-linux.md read (${sections.length} sections)`);
  const keys = Object.keys(f.linux).map((k) => k.toLowerCase());
  for (const s of sections) t.ok(keys.includes(s), `linux.${s}`);
});

t.test('from the code\'s own tables', async (t) => {
  t.same(f.linux.namespaces, NAMESPACES.map((n) => n.type));
  t.ok(f.linux.namespaces.includes('user'), 'namespace user (containerd enables user-namespaced pods on it)');
  t.equal(f.linux.mountExtensions.idmap.enabled, true, 'idmap mounts');
  t.ok(f.mountOptions.includes('rro'), 'recursive read-only (the rro mount option)');
  t.same(f.mountOptions, [...MOUNT_OPTIONS]);
  t.same(f.linux.capabilities, [...CAPABILITIES]);
  t.same(f.linux.memoryPolicy, { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS) });
  t.same(f.potentiallyUnsafeConfigAnnotations, [], 'runts acts on no config annotation');
  t.same(f.linux.netDevices, { enabled: false }, 'create refuses linux.netDevices');
  t.same(f.linux.intelRdt, { enabled: false, schemata: false, monitoring: false });
  t.ok('io.github.runts.version' in f.annotations && 'io.github.runts.commit' in f.annotations, 'version and commit annotations');
});
