import { register } from 'node:module';
import { fail } from '../ir/errors.js';

/**
 * tfjs-core's Node bundle (`dist/tf-core.node.js`) ships no gradient functions: the umbrella `@tensorflow/tfjs`
 * registers them from `dist/register_all_gradients.js`, an ES module written for bundlers (its imports lack the
 * `.js` extension, so Node refuses them). We load that file with a resolve hook that adds the extension, scoped to
 * tfjs-core's dist folder. The second copy of tfjs-core it pulls in shares the engine, kernel and gradient registries
 * with the first (tfjs keeps them on a global object precisely so copies can coexist), so the gradients it registers
 * serve the ops we call.
 */
const RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const parent = context.parentURL ?? '';
    if (parent.includes('/@tensorflow/tfjs-core/dist/') && specifier.startsWith('.') && !specifier.endsWith('.js'))
      return next(specifier + '.js', context);
    throw e;
  }
}`;

let loading: Promise<void> | undefined;

/** Registers every tfjs-core gradient (once; later calls return the same promise). */
export function registerTfjsGradients(): Promise<void> {
  loading ??= (async () => {
    if (typeof register !== 'function') fail(`fine-tuning needs Node.js 20.6 or later (module.register), this is ${process.version}`);
    register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
    // A literal specifier would make TypeScript resolve it through the package's (untyped) deep path.
    const path = '@tensorflow/tfjs-core/dist/register_all_gradients.js';
    await import(path);
  })();
  return loading;
}
