// The ceiling after one `await` of an already-resolved value: the same 302 as ./ceiling.mjs,
// answered as a promise. What any handler that awaits anything (a KV read served from memory
// included) pays the runtime, with nothing else to do.
import ceiling from "./ceiling.mjs";

export default {
  async fetch(request, env) {
    await null;
    return ceiling.fetch(request, env);
  },
};
