import { afterEach, describe, expect, it, vi } from 'vitest'
import { prerequisite } from './prerequisites.js'

describe('prerequisites', () => {
  const saved = process.env.CI
  afterEach(() => {
    process.env.CI = saved
    vi.restoreAllMocks()
  })

  it('fails instead of skipping when CI=true', () => {
    process.env.CI = 'true'
    expect(() => prerequisite('mosquitto', false, 'apt-get install mosquitto')).toThrow(/CI=true/)
  })

  it('skips loudly outside CI', () => {
    process.env.CI = ''
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    expect(prerequisite('mosquitto', false, 'apt-get install mosquitto')).toBe(false)
    expect(warn.mock.calls[0]?.[0]).toMatch(/MISSING PREREQUISITE: mosquitto/)
  })

  it('passes when present', () => {
    process.env.CI = 'true'
    expect(prerequisite('node', true, '')).toBe(true)
  })
})
