import { StreamConsumerGroupsInterface } from '@prism/proto/prism/stream/v1/stream_consumer_groups_pb';
import {
  checkAtMost,
  checkMemberName,
  checkMillis,
  checkTokens,
  checkTopic,
  MESSAGING_BOUNDS,
} from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/stream/v1/stream_consumer_groups_pb';

/** The stream_consumer_groups flavour (at-least-once): ReadGroup, Ack, DeleteGroup. */
export const StreamConsumerGroups = defineInterface(
  'stream_consumer_groups',
  StreamConsumerGroupsInterface,
  { readGroup: 'read', ack: 'write', deleteGroup: 'write' },
  {
    readGroup: (req) => {
      checkTopic(req.stream, 'stream');
      checkMemberName(req.group, 'group');
      checkMemberName(req.consumer, 'consumer');
      checkAtMost(req.maxInFlight, 'max_in_flight', MESSAGING_BOUNDS.maxInFlight);
      checkMillis(req.claimTimeoutMs, 'claim_timeout_ms', MESSAGING_BOUNDS.maxTimeoutMs);
    },
    ack: (req) => {
      checkTopic(req.stream, 'stream');
      checkMemberName(req.group, 'group');
      checkTokens(req.ackIds, 'ack_ids');
    },
    deleteGroup: (req) => {
      checkTopic(req.stream, 'stream');
      checkMemberName(req.group, 'group');
    },
  },
);

/** What an adapter implements for stream_consumer_groups. */
export type StreamConsumerGroupsImpl = InterfaceImpl<typeof StreamConsumerGroupsInterface>;
