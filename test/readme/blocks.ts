import { readFileSync } from 'node:fs'

/** One fenced code block of a README that the README test runs. */
export interface ReadmeBlock {
  /** `README.md:42`: the file and the line of its opening fence. */
  name: string
  lang: 'sh' | 'ts'
  code: string
  /** `<!-- readme-test: skip REASON -->` on the line before the fence. */
  skip?: string
  /** `<!-- readme-test: background -->`: a server, started here and stopped after the file's last block. */
  background: boolean
}

const LANGS: Record<string, ReadmeBlock['lang']> = { sh: 'sh', bash: 'sh', shell: 'sh', ts: 'ts', typescript: 'ts' }
const DIRECTIVE = /^\s*<!--\s*readme-test:\s*(skip|background)\b\s*(.*?)\s*-->\s*$/

/** The ```sh and ```ts blocks of a markdown file, in order, with their directives. */
export function readmeBlocks(file: string, label = file): ReadmeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n')
  const blocks: ReadmeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i] as string)
    if (!open) continue
    const indent = (open[1] as string).length
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l))
    if (end < 0) throw new Error(`${label}:${i + 1}: code fence never closed`)
    const lang = LANGS[open[2] as string]
    if (lang) {
      const directive = DIRECTIVE.exec(lines[i - 1] ?? '')
      const skip = directive?.[1] === 'skip' ? directive[2] : undefined
      if (directive?.[1] === 'skip' && !skip) throw new Error(`${label}:${i}: a skip needs its reason`)
      blocks.push({
        name: `${label}:${i + 1}`,
        lang,
        code: lines
          .slice(i + 1, end)
          .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
          .join('\n'),
        skip,
        background: directive?.[1] === 'background',
      })
    }
    i = end
  }
  return blocks
}

/**
 * Shell variables set by earlier blocks (`BOB=$(jq -r .did bob.json)` alone on a line): each sh
 * block runs in its own bash, so these lines are run again at its start.
 */
export function shellAssignments(blocks: ReadmeBlock[]): string[] {
  return blocks
    .filter((b) => b.lang === 'sh' && !b.skip)
    .flatMap((b) => b.code.split('\n').filter((l) => /^[A-Z][A-Z0-9_]*=\S/.test(l)))
}

/**
 * What a ts block says it prints: the `// → …` comment after each `console.log(…)`, in order
 * (`console.log(report.confirmed) // → true`).
 */
export function promisedOutput(code: string): string[] {
  return code
    .split('\n')
    .filter((l) => /\bconsole\.log\(/.test(l))
    .map((l) => /\/\/ → (.*)$/.exec(l)?.[1]?.trim())
    .filter((x): x is string => x !== undefined)
}

/** The promised lines missing from `out`, where each must be a whole line, after the one before it. */
export function missingOutput(promised: string[], out: string): string[] {
  const lines = out.split('\n').map((l) => l.trim())
  let at = 0
  const missing: string[] = []
  for (const p of promised) {
    const i = lines.indexOf(p, at)
    if (i < 0) missing.push(p)
    else at = i + 1
  }
  return missing
}
