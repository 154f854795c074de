// The Storage contract: every implementation (embedded, MongoDB) passes these same tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { newFileId, newGroupId, newMessageId, newUserId, directConversationId, type UserId, type ConversationId } from '../../src/ids.ts';
import type { Storage } from '../../src/storage/Storage.ts';

export function storageContract(name: string, open: () => Promise<Storage>): void {
  describe(`Storage contract: ${name}`, () => {
    const user = (username: string) => ({ id: newUserId(), username, passwordHash: 'scrypt$x', createdAt: Date.now() });
    const rnd = () => Math.random().toString(36).slice(2, 10);
    const msg = (conversationId: ConversationId, sender: UserId, clientMsgId: string, body = 'hi') => ({
      id: newMessageId(), conversationId, sender, clientMsgId, body, sentAt: Date.now(),
    });

    it('stores users, finds them by id and by name (case-insensitive), refuses a taken name', async () => {
      const s = await open();
      const u = user(`Alice_${rnd()}`);
      await s.createUser(u);
      assert.deepEqual(await s.findUserById(u.id), u);
      assert.deepEqual(await s.findUserByName(u.username.toLowerCase()), u);
      assert.equal(await s.findUserById(newUserId()), null);
      await assert.rejects(s.createUser({ ...user(u.username.toUpperCase()) }), (e: unknown) => e instanceof AppError && e.kind === 'already_exists');
      await s.close();
    });

    it('creates conversations idempotently, changes membership, lists a user\'s conversations', async () => {
      const s = await open();
      const [a, b, c] = [user(`a_${rnd()}`), user(`b_${rnd()}`), user(`c_${rnd()}`)];
      for (const u of [a, b, c]) await s.createUser(u);
      const g = { id: newGroupId(), kind: 'group' as const, name: 'g', owner: a.id, createdAt: Date.now(), members: [a.id, b.id] };
      await s.createConversation(g);
      await s.createConversation({ ...g, name: 'changed', members: [a.id] });
      const got = await s.getConversation(g.id);
      assert.equal(got?.name, 'g');
      assert.deepEqual([...got!.members].sort(), [a.id, b.id].sort());
      await s.addMember(g.id, c.id);
      await s.addMember(g.id, c.id);
      await s.removeMember(g.id, b.id);
      assert.deepEqual([...(await s.getConversation(g.id))!.members].sort(), [a.id, c.id].sort());
      const dm = directConversationId(a.id, c.id);
      await s.createConversation({ id: dm, kind: 'direct', name: '', owner: null, createdAt: Date.now(), members: [a.id, c.id] });
      const mine = await s.listConversations(c.id);
      assert.deepEqual(mine.map((x) => x.id).sort(), [g.id, dm].sort());
      assert.deepEqual(await s.listConversations(b.id), []);
      assert.equal(await s.getConversation(newGroupId()), null);
      await s.close();
    });

    it('gives each conversation seq 1, 2, 3… without gaps under concurrent appends, and de-duplicates', async () => {
      const s = await open();
      const [a, b] = [user(`a_${rnd()}`), user(`b_${rnd()}`)];
      for (const u of [a, b]) await s.createUser(u);
      const convs = await Promise.all([0, 1, 2].map(async () => {
        const id = newGroupId();
        await s.createConversation({ id, kind: 'group', name: '', owner: a.id, createdAt: Date.now(), members: [a.id, b.id] });
        return id;
      }));
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => s.appendMessage(msg(convs[i % 3]!, i % 2 ? a.id : b.id, `c${i}`))));
      for (const conv of convs) {
        const seqs = results.filter((r) => r.message.conversationId === conv).map((r) => r.message.seq).sort((x, y) => x - y);
        assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => i + 1));
      }
      assert.ok(results.every((r) => !r.duplicate));
      // A resend, even racing its original, is the same message.
      const [first, again] = await Promise.all([s.appendMessage(msg(convs[0]!, a.id, 'dup')), s.appendMessage(msg(convs[0]!, a.id, 'dup'))]);
      assert.equal(first.duplicate, false);
      assert.equal(again.duplicate, true);
      assert.equal(again.message.id, first.message.id);
      assert.equal(again.message.seq, 101);
      // The same client id from another sender is another message.
      const other = await s.appendMessage(msg(convs[0]!, b.id, 'dup'));
      assert.equal(other.duplicate, false);
      assert.equal(other.message.seq, 102);
      await assert.rejects(s.appendMessage(msg(newGroupId(), a.id, 'x')), (e: unknown) => e instanceof AppError && e.kind === 'not_found');
      await s.close();
    });

    it('pages history since a seq, in order', async () => {
      const s = await open();
      const a = user(`a_${rnd()}`);
      await s.createUser(a);
      const id = newGroupId();
      await s.createConversation({ id, kind: 'group', name: '', owner: a.id, createdAt: Date.now(), members: [a.id] });
      for (let i = 0; i < 25; i++) await s.appendMessage(msg(id, a.id, `m${i}`, `body ${i}`));
      const page = await s.history(id, 10, 5);
      assert.deepEqual(page.map((m) => m.seq), [11, 12, 13, 14, 15]);
      assert.equal(page[0]!.body, 'body 10');
      assert.equal(page[0]!.sender, a.id);
      assert.deepEqual((await s.history(id, 25, 10)), []);
      assert.equal((await s.history(id, 0, 100)).length, 25);
      assert.equal((await s.listConversations(a.id))[0]!.lastSeq, 25);
      await s.close();
    });

    it('stores a message\'s attachment with it, and a resend returns it', async () => {
      const s = await open();
      const a = user(`a_${rnd()}`);
      await s.createUser(a);
      const id = newGroupId();
      await s.createConversation({ id, kind: 'group', name: '', owner: a.id, createdAt: Date.now(), members: [a.id] });
      const attachment = { fileId: newFileId(), name: 'résumé "final".pdf', size: 12345, contentType: 'application/pdf' };
      const first = await s.appendMessage({ ...msg(id, a.id, 'with-file', ''), attachment });
      assert.deepEqual(first.message.attachment, attachment);
      assert.deepEqual((await s.appendMessage({ ...msg(id, a.id, 'with-file', ''), attachment })).message.attachment, attachment);
      await s.appendMessage(msg(id, a.id, 'plain'));
      const [withFile, plain] = await s.history(id, 0, 10);
      assert.deepEqual(withFile!.attachment, attachment);
      assert.equal(withFile!.body, '');
      assert.equal('attachment' in plain!, false);
      await s.close();
    });

    it('lets the members of a conversation where a file was shared read it, and nobody else', async () => {
      const s = await open();
      const [a, b, c] = [user(`a_${rnd()}`), user(`b_${rnd()}`), user(`c_${rnd()}`)];
      for (const u of [a, b, c]) await s.createUser(u);
      const g = newGroupId();
      await s.createConversation({ id: g, kind: 'group', name: '', owner: a.id, createdAt: Date.now(), members: [a.id, b.id] });
      const file = newFileId();
      assert.equal(await s.fileSharedWith(file, b.id), false);
      await s.shareFile(file, g);
      await s.shareFile(file, g);
      assert.equal(await s.fileSharedWith(file, a.id), true);
      assert.equal(await s.fileSharedWith(file, b.id), true);
      assert.equal(await s.fileSharedWith(file, c.id), false);
      assert.equal(await s.fileSharedWith(newFileId(), b.id), false);
      // Membership is read now: leaving the conversation ends it, joining another where it was shared gives it.
      await s.removeMember(g, b.id);
      assert.equal(await s.fileSharedWith(file, b.id), false);
      const dm = directConversationId(a.id, c.id);
      await s.createConversation({ id: dm, kind: 'direct', name: '', owner: null, createdAt: Date.now(), members: [a.id, c.id] });
      await s.shareFile(file, dm);
      assert.equal(await s.fileSharedWith(file, c.id), true);
      await s.close();
    });
  });
}
