// Hand-written types for the zendesk-analytics SDK (bundler build; web.d.ts
// adds the web build's init): wasm-bindgen cannot
// generate overloads, and analytics.js accepts many call shapes. Checked by
// `tsc -p types` (types/check.ts exercises every shape).

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type Traits = Record<string, unknown>;
export type Properties = Record<string, unknown>;
export type Id = string | number;

/** Segment's per-call options. */
export interface Options {
  integrations?: Record<string, boolean | Record<string, unknown>>;
  context?: Record<string, unknown>;
  timestamp?: string | Date;
  messageId?: string;
  anonymousId?: string;
  userId?: string;
  [key: string]: unknown;
}

/** What happened to one call; the Promise of every call resolves with it. */
export interface CallResult {
  messageId?: string;
  /** The Zendesk / Connect operations the core produced (when settings are loaded). */
  mapping?: unknown;
  /** Queued for delivery. */
  queued?: true;
  /** Not sent: no enabled destination has anything to do with it. */
  dropped?: string;
  /** Refused: what is wrong with the call. */
  invalid?: string;
  event?: Record<string, unknown>;
}

export type Callback = (result: CallResult) => void;

export interface DeliveryEvents {
  delivered: { messageIds: string[] };
  dropped: { messageId?: string; dropped: string; event?: Record<string, unknown> };
  invalid: { messageId?: string; invalid: string; event?: Record<string, unknown> };
}

export interface User {
  id(): string | null | undefined;
  anonymousId(): string | null;
  traits(): Traits;
}

export interface Group {
  id(): string | null | undefined;
  traits(): Traits;
}

export interface LoadOptions {
  writeKey: string;
  /** Your zendesk-analytics proxy, e.g. https://collect.example.com */
  proxyUrl: string;
  /** Script-tag snippet only: where the web build's zendesk_analytics.js is served. */
  sdkUrl?: string;
}

export interface Analytics {
  identify(userId: Id | null, traits?: Traits | null, options?: Options | null, callback?: Callback): Promise<CallResult>;
  identify(userId: Id | null, traits: Traits | null, callback: Callback): Promise<CallResult>;
  identify(userId: Id | null, callback: Callback): Promise<CallResult>;
  identify(traits: Traits, options?: Options | null, callback?: Callback): Promise<CallResult>;
  identify(traits: Traits, callback: Callback): Promise<CallResult>;

  track(event: string, properties?: Properties | null, options?: Options | null, callback?: Callback): Promise<CallResult>;
  track(event: string, properties: Properties | null, callback: Callback): Promise<CallResult>;
  track(event: string, callback: Callback): Promise<CallResult>;
  track(event: { event: string; properties?: Properties }, options?: Options | null, callback?: Callback): Promise<CallResult>;

  page(category: string | null, name: string | null, properties?: Properties | null, options?: Options | null, callback?: Callback): Promise<CallResult>;
  page(name: string, properties?: Properties | null, options?: Options | null, callback?: Callback): Promise<CallResult>;
  page(name: string, callback: Callback): Promise<CallResult>;
  page(properties?: Properties | null, options?: Options | null, callback?: Callback): Promise<CallResult>;
  page(callback: Callback): Promise<CallResult>;

  group(): Group;
  group(groupId: Id | null, traits?: Traits | null, options?: Options | null, callback?: Callback): Promise<CallResult>;
  group(groupId: Id | null, traits: Traits | null, callback: Callback): Promise<CallResult>;
  group(groupId: Id | null, callback: Callback): Promise<CallResult>;
  group(traits: Traits, options?: Options | null, callback?: Callback): Promise<CallResult>;

  alias(userId: Id, previousId?: Id | null, options?: Options | null, callback?: Callback): Promise<CallResult>;
  alias(userId: Id, previousId: Id | null, callback: Callback): Promise<CallResult>;
  alias(userId: Id, options: Options, callback?: Callback): Promise<CallResult>;
  alias(userId: Id, callback: Callback): Promise<CallResult>;

  /** Sends every queued event; settles once the proxy has them (or they wait for a retry). */
  flush(): Promise<void>;
  /** Resolves (and calls `callback`) once the settings are loaded. */
  ready(callback?: () => void): Promise<void>;
  /** Forgets the user, traits and group; a new anonymousId starts. */
  reset(): void;
  user(): User;
  setAnonymousId(id: Id): string;
  /** `debug(true)` logs the Zendesk operations of every call. */
  debug(on?: boolean): void;
  on<K extends keyof DeliveryEvents>(name: K, listener: (payload: DeliveryEvents[K]) => void): void;
  off<K extends keyof DeliveryEvents>(name: K, listener?: (payload: DeliveryEvents[K]) => void): void;
}

/** Creates the SDK. Throws only for a missing writeKey or proxyUrl. */
export function load(options: LoadOptions): Analytics;
