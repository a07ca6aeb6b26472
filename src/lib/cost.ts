import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * What one request (or one commit batch) cost: D1 round trips and statements,
 * the rows D1 says it read and wrote (each result's `meta`; D1 bills by them),
 * Durable Object RPC calls and R2 operations. The bindings are wrapped once
 * (src/db/metered.ts, meterBucket, meterActors) and add to the cost of the
 * scope they run in, so no call site counts anything itself.
 */
export interface Cost {
  d1: number
  statements: number
  rowsRead: number
  rowsWritten: number
  /** Statements whose rows D1 does not report (`raw()` drops `meta`). */
  unmetered: number
  actorCalls: number
  r2: number
  /**
   * Wall time spent waiting on D1 and on the actor (overlapping waits both count). Workers
   * clocks advance only across I/O, so CPU stages show up in `ms` minus these, not on their own.
   */
  d1Ms: number
  actorMs: number
  /** A write's share of the actor's commit batch: the batch's cost, shared by `requests` requests. */
  actor?: BatchCost
}

export type BatchCost = Omit<Cost, 'actor'> & { requests: number }

export const newCost = (): Cost => ({ d1: 0, statements: 0, rowsRead: 0, rowsWritten: 0, unmetered: 0, actorCalls: 0, r2: 0, d1Ms: 0, actorMs: 0 })

/** Adds the time until `promise` settles to `field` of the current scope. */
export function timed<T>(field: 'd1Ms' | 'actorMs', promise: Promise<T>): Promise<T> {
  const cost = currentCost()
  if (!cost) return promise
  const started = Date.now()
  return promise.finally(() => (cost[field] += Date.now() - started))
}

const scope = new AsyncLocalStorage<Cost>()

/** Runs `fn` with every metered call it makes (and the promises it starts) added to `cost`. */
export function withCost<T>(cost: Cost, fn: () => T): T {
  return scope.run(cost, fn)
}

/** The cost of the scope we run in, or null outside any. */
export function currentCost(): Cost | null {
  return scope.getStore() ?? null
}

/** Log fields: only what is non-zero, so a line shows at a glance what a request touched. */
export function costFields(cost: Cost | BatchCost): Record<string, unknown> {
  return Object.fromEntries(Object.entries(cost).filter(([, v]) => v !== 0 && v !== undefined).map(([k, v]) => [k, typeof v === 'object' ? costFields(v) : v]))
}

const bucketOps = new Set(['head', 'get', 'put', 'delete', 'list', 'createMultipartUpload', 'resumeMultipartUpload'])
const uploadOps = new Set(['uploadPart', 'abort', 'complete'])

/** An R2 bucket whose operations (and those of its multipart uploads) count as `r2`. */
export function meterBucket(bucket: R2Bucket): R2Bucket {
  return countCalls(bucket, bucketOps, 'r2', (result) => (isMultipart(result) ? countCalls(result, uploadOps, 'r2') : result))
}

/** A Durable Object namespace whose stubs count each RPC call (and fetch) as `actorCalls`. */
export function meterActors<T extends DurableObjectNamespace<any>>(ns: T): T {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (prop !== 'get' && prop !== 'getByName') return typeof value === 'function' ? value.bind(target) : value
      return (...args: unknown[]) => meterStub(Reflect.apply(value as (...a: unknown[]) => object, target, args))
    },
  })
}

function meterStub<S extends object>(stub: S): S {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      // A stub answers any name with an RPC method; `then` must not make it look like a promise.
      if (typeof prop === 'symbol' || prop === 'then' || prop === 'id' || prop === 'name' || typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const cost = currentCost()
        if (cost) cost.actorCalls++
        // Reflect.apply: an RPC method is itself a stub, whose `.apply` would be another remote call.
        const result = Reflect.apply(value, target, args)
        return typeof result?.then === 'function' ? timed('actorMs', Promise.resolve(result)) : result
      }
    },
  })
}

function countCalls<T extends object>(target: T, ops: Set<string>, field: 'r2' | 'actorCalls', wrap: (result: any) => any = (r) => r): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t)
      if (typeof value !== 'function') return value
      if (typeof prop !== 'string' || !ops.has(prop)) return value.bind(t)
      return (...args: unknown[]) => {
        const cost = currentCost()
        if (cost) cost[field]++
        const result = Reflect.apply(value, t, args)
        return result instanceof Promise ? result.then(wrap) : wrap(result)
      }
    },
  })
}

const isMultipart = (v: unknown): v is R2MultipartUpload => typeof v === 'object' && v !== null && 'uploadPart' in v && 'uploadId' in v
