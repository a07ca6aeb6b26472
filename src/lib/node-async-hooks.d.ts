// workerd provides node:async_hooks under nodejs_compat; the project's types are the Workers
// types only (not @types/node, whose globals clash with them), so declare the part we use.
declare module 'node:async_hooks' {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, fn: () => R): R
    getStore(): T | undefined
  }
}
