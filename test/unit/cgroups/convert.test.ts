import t from 'tap';
import {
  blkioWeightToIoWeight, cpuSharesToWeight, hugePageSizeName, LEGACY_cpuSharesToWeight, memorySwapToV2, parseCpuList, parsePageSize,
} from '../../../src/cgroups/convert.js';

t.test('cpu.shares → cpu.weight (runc / opencontainers/cgroups formula)', async (t) => {
  // The cases of opencontainers/cgroups utils_test.go TestConvertCPUSharesToCgroupV2Value.
  const cases: [number, number][] = [
    [0, 0], // unset
    [1, 1], // below the minimum
    [2, 1], // minimum
    [3, 2], // just above the minimum
    [1024, 100], // default maps to default
    [262143, 10000], // just below the maximum
    [262144, 10000], // maximum
    [262145, 10000], // above the maximum
  ];
  for (const [s, w] of cases) t.equal(cpuSharesToWeight(s), w, `${s} → ${w}`);
  // A few more points of the curve (monotonic, integer, in range).
  t.same([10, 100, 512, 2048, 4096, 102400].map(cpuSharesToWeight), [4, 17, 59, 174, 303, 4429]);
  let prev = 0;
  const bad: string[] = [];
  for (let s = 2; s <= 262144; s += 97) {
    const w = cpuSharesToWeight(s);
    if (!(Number.isInteger(w) && w >= prev && w >= 1 && w <= 10000)) bad.push(`${s}→${w}`);
    prev = w;
  }
  t.same(bad, [], 'monotonic integers in 1..10000 over the whole range');
  t.equal(LEGACY_cpuSharesToWeight(1024), 39, 'the old linear formula (runc ≤ 1.2) for comparison');
  t.equal(LEGACY_cpuSharesToWeight(262144), 10000);
});

t.test('blkio weight → io.weight', async (t) => {
  t.equal(blkioWeightToIoWeight(0), 0);
  t.equal(blkioWeightToIoWeight(10), 1);
  t.equal(blkioWeightToIoWeight(500), 4950);
  t.equal(blkioWeightToIoWeight(1000), 10000);
});

t.test('memory.swap (memory+swap) → memory.swap.max', async (t) => {
  // runc's ConvertMemorySwapToCgroupV2Value test table.
  t.equal(memorySwapToV2(0, 0), 0);
  t.equal(memorySwapToV2(-1, 0), -1);
  t.equal(memorySwapToV2(-1, -1), -1);
  t.equal(memorySwapToV2(0, -1), -1, 'unlimited memory and unset swap: both unlimited');
  t.equal(memorySwapToV2(-1, 1000), -1);
  t.equal(memorySwapToV2(1000, 1000), 0, 'swap == limit: no swap at all');
  t.equal(memorySwapToV2(500, 200), 300);
  t.equal(memorySwapToV2(500, -1), 500);
  t.throws(() => memorySwapToV2(-2, 0), /invalid value/);
  t.throws(() => memorySwapToV2(300, 400), /must be >= memory.limit/);
  t.throws(() => memorySwapToV2(300, 0), /without a memory limit/);
});

t.test('page sizes and cpu lists', async (t) => {
  t.equal(parsePageSize('2MB'), 2 * 1024 * 1024);
  t.equal(parsePageSize('1GB'), 1024 ** 3);
  t.equal(parsePageSize('64KB'), 65536);
  t.throws(() => parsePageSize('2M'), /invalid pageSize/);
  t.throws(() => parsePageSize('../x'), /invalid pageSize/);
  t.equal(hugePageSizeName(2048), '2MB');
  t.equal(hugePageSizeName(1048576), '1GB');
  t.equal(hugePageSizeName(64), '64KB');
  t.same(parseCpuList('0-3,7\n'), [0, 1, 2, 3, 7]);
  t.same(parseCpuList(''), []);
});
