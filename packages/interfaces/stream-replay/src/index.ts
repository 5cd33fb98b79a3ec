import { StreamReplayInterface } from '@prism/proto/prism/stream/v1/stream_replay_pb';
import { checkTopic } from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/stream/v1/stream_replay_pb';

/** The stream_replay flavour: Replay from an offset or from a time. */
export const StreamReplay = defineInterface(
  'stream_replay',
  StreamReplayInterface,
  { replay: 'read' },
  {
    replay: (req) => {
      checkTopic(req.stream, 'stream');
      if (req.start.case === undefined)
        throw invalidArgument('set exactly one start position: from_offset or from_timestamp_ms');
      if (req.start.case === 'fromTimestampMs' && req.start.value < 0n)
        throw invalidArgument(`from_timestamp_ms must not be negative (got ${req.start.value})`);
    },
  },
);

/** What an adapter implements for stream_replay. */
export type StreamReplayImpl = InterfaceImpl<typeof StreamReplayInterface>;
