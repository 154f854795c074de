// The MessagingService provider: each RPC calls the same MessagingService the HTTP and
// WebSocket fronts use; SubscribeEvents joins the user's connections beside their sockets.
// A message may carry one of the sender's files (`file_id`), as over HTTP and WebSocket.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../errors.ts';
import type { MessagingService } from '../../service/MessagingService.ts';
import { conversationId, userId } from '../../service/validate.ts';
import type { Connections } from '../Connections.ts';
import type { CallGuard } from './CallGuard.ts';
import { EventStream } from './EventStream.ts';
import type { FieldNames } from './fieldNames.ts';
import {
  conversation, conversationSummary, historyPage, sendAck,
  type Conversation, type ConversationRequest, type CreateGroupRequest, type GroupMemberRequest,
  type ListConversationsResponse, type ListMessagesRequest, type ListMessagesResponse,
  type SendMessageRequest, type SendMessageResponse, type SubscribeEventsResponse,
} from './wire.ts';

export interface MessagingProviderDeps {
  readonly messaging: MessagingService;
  readonly connections: Connections;
  /** Events a subscriber may leave unread before it is ended as too slow. */
  readonly maxPendingEvents: number;
}

/** Fields the shared MessagingService names otherwise than the contract (fieldNames.ts). */
const SEND_FIELDS: FieldNames = { clientMsgId: 'client_msg_id', fileId: 'file_id' };
const HISTORY_FIELDS: FieldNames = { sinceSeq: 'since_seq', limit: 'page_size' };

export function messagingServiceHandlers(d: MessagingProviderDeps, guard: CallGuard): grpc.UntypedServiceImplementation {
  const m = d.messaging;
  return {
    SendMessage: guard.authed<SendMessageRequest, SendMessageResponse>('SendMessage', async (req, user) => {
      // An empty file_id is proto3's "not set": no file.
      const text = { clientMsgId: req.clientMsgId, body: req.body, fileId: req.fileId || undefined };
      switch (req.target) {
        case 'conversationId':
          return sendAck(await m.send(user, conversationId(req.conversationId, 'conversation_id'), text));
        case 'recipientId':
          return sendAck(await m.sendDirect(user, userId(req.recipientId, 'recipient_id'), text));
        default:
          throw new InvalidArgumentError('set "conversation_id" or "recipient_id"');
      }
    }, SEND_FIELDS),

    SubscribeEvents: guard.authedStream<unknown, SubscribeEventsResponse>('SubscribeEvents', (call, user) => {
      EventStream.start(call, user, d.connections, d.maxPendingEvents);
    }),

    ListMessages: guard.authed<ListMessagesRequest, ListMessagesResponse>('ListMessages', async (req, user) => {
      // page_size 0 is proto3's "not set": the default page.
      const { sinceSeq, limit } = m.historyLimit({ sinceSeq: req.sinceSeq, limit: req.pageSize || undefined });
      return historyPage(await m.history(user, conversationId(req.conversationId, 'conversation_id'), sinceSeq, limit));
    }, HISTORY_FIELDS),

    ListConversations: guard.authed<unknown, ListConversationsResponse>('ListConversations', async (_req, user) =>
      ({ conversations: (await m.conversations(user)).map(conversationSummary) })),

    GetConversation: guard.authed<ConversationRequest, Conversation>('GetConversation', async (req, user) =>
      conversation(await m.conversation(user, conversationId(req.conversationId, 'conversation_id')))),

    CreateGroup: guard.authed<CreateGroupRequest, Conversation>('CreateGroup', async (req, user) =>
      conversation(await m.createGroup(user, { name: req.name, members: req.members }))),

    AddGroupMember: guard.authed<GroupMemberRequest, Conversation>('AddGroupMember', async (req, user) =>
      conversation(await m.addMember(user, conversationId(req.conversationId, 'conversation_id'), userId(req.userId, 'user_id')))),

    RemoveGroupMember: guard.authed<GroupMemberRequest, Conversation>('RemoveGroupMember', async (req, user) =>
      conversation(await m.removeMember(user, conversationId(req.conversationId, 'conversation_id'), userId(req.userId, 'user_id')))),
  };
}
