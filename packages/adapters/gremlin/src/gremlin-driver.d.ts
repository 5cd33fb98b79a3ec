// The npm `gremlin` package (3.7) ships no type declarations: this declares the part the adapter uses.
// Values coming back from the server are `unknown` and converted in values.ts.
declare module 'gremlin' {
  /** A step argument: scalars, tokens, predicates, anonymous traversals, lists. */
  type Arg = unknown;

  interface EnumValue {
    readonly typeName: string;
    readonly elementName: string;
  }

  interface ResultSet {
    toArray(): unknown[];
    readonly length: number;
  }

  interface ClientOptions {
    traversalSource?: string;
    mimeType?: string;
    headers?: Record<string, string>;
    rejectUnauthorized?: boolean;
    ca?: string[];
    enableUserAgentOnConnect?: boolean;
  }

  interface RequestOptions {
    aliases?: Record<string, string>;
    evaluationTimeout?: number;
    requestId?: string;
  }

  class Client {
    constructor(url: string, options?: ClientOptions);
    open(): Promise<void>;
    readonly isOpen: boolean;
    submit(
      message: string,
      bindings?: Record<string, unknown>,
      requestOptions?: RequestOptions,
    ): Promise<ResultSet>;
    close(): Promise<void>;
    addListener(event: 'close' | 'socketError' | 'log', handler: (...args: unknown[]) => void): void;
    removeListener(event: 'close' | 'socketError' | 'log', handler: (...args: unknown[]) => void): void;
  }

  class DriverRemoteConnection {
    constructor(url: string, options?: ClientOptions);
    open(): Promise<void>;
    readonly isOpen: boolean;
    close(): Promise<void>;
    addListener(event: 'close' | 'socketError' | 'log', handler: (...args: unknown[]) => void): void;
    readonly _client: Client;
  }

  class ResponseError extends Error {
    readonly statusCode: number;
    readonly statusMessage: string;
    readonly statusAttributes: Map<string, unknown>;
  }

  interface GraphTraversal {
    V(...ids: Arg[]): GraphTraversal;
    E(...ids: Arg[]): GraphTraversal;
    addV(label: Arg): GraphTraversal;
    addE(label: Arg): GraphTraversal;
    aggregate(key: string): GraphTraversal;
    as(...labels: string[]): GraphTraversal;
    both(...labels: Arg[]): GraphTraversal;
    bothE(...labels: Arg[]): GraphTraversal;
    by(...args: Arg[]): GraphTraversal;
    cap(key: string): GraphTraversal;
    count(...args: Arg[]): GraphTraversal;
    dedup(...args: Arg[]): GraphTraversal;
    drop(): GraphTraversal;
    elementMap(...keys: string[]): GraphTraversal;
    fold(): GraphTraversal;
    from_(arg: Arg): GraphTraversal;
    has(...args: Arg[]): GraphTraversal;
    hasId(...args: Arg[]): GraphTraversal;
    id(): GraphTraversal;
    in_(...labels: Arg[]): GraphTraversal;
    inE(...labels: Arg[]): GraphTraversal;
    inV(): GraphTraversal;
    limit(n: number): GraphTraversal;
    order(...args: Arg[]): GraphTraversal;
    otherV(): GraphTraversal;
    out(...labels: Arg[]): GraphTraversal;
    outE(...labels: Arg[]): GraphTraversal;
    outV(): GraphTraversal;
    project(...keys: string[]): GraphTraversal;
    properties(...keys: string[]): GraphTraversal;
    property(...args: Arg[]): GraphTraversal;
    select(...keys: Arg[]): GraphTraversal;
    sideEffect(t: Arg): GraphTraversal;
    unfold(): GraphTraversal;
    where(t: Arg): GraphTraversal;
    toList(): Promise<unknown[]>;
    next(): Promise<{ value: unknown; done: boolean }>;
    iterate(): Promise<void>;
  }

  interface GraphTraversalSource {
    withRemote(connection: DriverRemoteConnection): GraphTraversalSource;
    withStrategies(...strategies: TraversalStrategy[]): GraphTraversalSource;
    V(...ids: Arg[]): GraphTraversal;
    E(...ids: Arg[]): GraphTraversal;
    addV(label: Arg): GraphTraversal;
    inject(...args: Arg[]): GraphTraversal;
  }

  class TraversalStrategy {
    constructor(fqcn: string, configuration?: Record<string, unknown>);
  }

  interface Predicates {
    within(...values: Arg[]): Arg;
    without(...values: Arg[]): Arg;
  }

  /** The anonymous traversal spawns (`__`) the adapter uses. */
  type Anonymous = Pick<
    GraphTraversal,
    'bothE' | 'inE' | 'outE' | 'id' | 'inV' | 'outV' | 'properties' | 'drop'
  >;

  class Vertex {
    readonly id: unknown;
    readonly label: string;
    readonly properties?: unknown;
  }
  class Edge {
    readonly id: unknown;
    readonly label: string;
    readonly outV: Vertex;
    readonly inV: Vertex;
    readonly properties?: unknown;
  }
  class VertexProperty {
    readonly id: unknown;
    readonly label: string;
    readonly key: string;
    readonly value: unknown;
  }
  class Property {
    readonly key: string;
    readonly value: unknown;
  }
  class Path {
    readonly labels: unknown[];
    readonly objects: unknown[];
  }

  const gremlin: {
    driver: {
      Client: typeof Client;
      DriverRemoteConnection: typeof DriverRemoteConnection;
      ResponseError: typeof ResponseError;
    };
    process: {
      AnonymousTraversalSource: { traversal(): GraphTraversalSource };
      TraversalStrategy: typeof TraversalStrategy;
      EnumValue: new (typeName: string, elementName: string) => EnumValue;
      P: Predicates;
      statics: Anonymous;
      t: { id: EnumValue; label: EnumValue };
      cardinality: { single: EnumValue };
      order: { asc: EnumValue };
    };
    structure: {
      Vertex: typeof Vertex;
      Edge: typeof Edge;
      VertexProperty: typeof VertexProperty;
      Property: typeof Property;
      Path: typeof Path;
    };
  };
  export default gremlin;
  export type {
    Client,
    ClientOptions,
    DriverRemoteConnection,
    EnumValue,
    GraphTraversal,
    GraphTraversalSource,
    ResultSet,
    TraversalStrategy,
  };
}
