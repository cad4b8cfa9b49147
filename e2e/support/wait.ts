import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`
 * with the last value seen, so a failing wait says what it saw instead of only that it timed out.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
      last = undefined
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? `: ${last.message}` : ''
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}${detail}`)
    }
    await sleep(intervalMs)
  }
}
