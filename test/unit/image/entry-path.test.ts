import t from 'tap';
import { classifyEntry, entryComponents, xattrAllowed } from '../../../src/image/entry-path.js';

t.test('names become components below the root', async (t) => {
  t.same(entryComponents('./a//b/'), ['a', 'b']);
  t.same(entryComponents('/etc/passwd'), ['etc', 'passwd']);
  t.same(entryComponents('.'), []);
  t.same(entryComponents('./'), []);
  t.throws(() => entryComponents('../x'), /contains ".."/);
  t.throws(() => entryComponents('a/../../x'), /contains ".."/);
  t.throws(() => entryComponents('a/..'), /contains ".."/);
  t.throws(() => entryComponents('a\0b'), /NUL/);
  t.throws(() => entryComponents('a/' + 'x'.repeat(256)), /longer than 255 bytes/);
  t.throws(() => entryComponents('a/'.repeat(2100)), /longer than 4096 bytes/);
});

t.test('whiteouts and opaque markers', async (t) => {
  t.same(classifyEntry('a/b'), { kind: 'content', comps: ['a', 'b'] });
  t.same(classifyEntry('a/.wh.b'), { kind: 'whiteout', comps: ['a', 'b'] });
  t.same(classifyEntry('.wh.top'), { kind: 'whiteout', comps: ['top'] });
  t.same(classifyEntry('a/.wh..wh..opq'), { kind: 'opaque', comps: ['a'] });
  t.same(classifyEntry('.wh..wh..opq'), { kind: 'opaque', comps: [] });
  t.same(classifyEntry('.wh..wh.plnk/1.2'), { kind: 'content', comps: ['.wh..wh.plnk', '1.2'] });
  t.same(classifyEntry('a/.wh..wh.aufs'), { kind: 'ignore', comps: ['a', '.wh..wh.aufs'] });
  t.throws(() => classifyEntry('a/.wh.'), /whiteout of nothing/);
  t.throws(() => classifyEntry('a/.wh..'), /whiteout of nothing/);
  t.throws(() => classifyEntry('../.wh.x'), /contains ".."/);
});

t.test('only file capabilities and user xattrs come from an image', async (t) => {
  t.ok(xattrAllowed('security.capability'));
  t.ok(xattrAllowed('user.foo'));
  t.notOk(xattrAllowed('user.'));
  t.notOk(xattrAllowed('trusted.overlay.opaque'));
  t.notOk(xattrAllowed('trusted.overlay.redirect'));
  t.notOk(xattrAllowed('security.selinux'));
  t.notOk(xattrAllowed('system.posix_acl_access'));
});
