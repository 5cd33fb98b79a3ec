import { StreamBasicInterface } from '@prism/proto/prism/stream/v1/stream_basic_pb';
import { checkOutgoing, checkTopic } from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/stream/v1/stream_basic_pb';

/** The stream_basic flavour: Append → offset, Read from an offset (optionally following), Trim. */
export const StreamBasic = defineInterface(
  'stream_basic',
  StreamBasicInterface,
  { append: 'write', read: 'read', trim: 'write' },
  {
    append: (req, limits) => {
      checkTopic(req.stream, 'stream');
      checkOutgoing(req, limits);
    },
    read: (req) => checkTopic(req.stream, 'stream'),
    trim: (req) => checkTopic(req.stream, 'stream'),
  },
);

/** What an adapter implements for stream_basic. */
export type StreamBasicImpl = InterfaceImpl<typeof StreamBasicInterface>;
