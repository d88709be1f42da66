// A DOM for React to render into, from happy-dom. Node's own fetch, streams and
// AbortController stay in place: the code under test runs on those in browsers too.
import { GlobalRegistrator } from "@happy-dom/global-registrator";

const native = {
  fetch: globalThis.fetch,
  Response: globalThis.Response,
  ReadableStream: globalThis.ReadableStream,
  TextDecoderStream: globalThis.TextDecoderStream,
  AbortController: globalThis.AbortController,
  AbortSignal: globalThis.AbortSignal,
};
GlobalRegistrator.register();
Object.assign(globalThis, native);

declare global {
  var IS_REACT_ACT_ENVIRONMENT: boolean;
}
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
