/**
 * Writes docs/CONFIGURATION.md from the configuration schema.
 *
 *   node scripts/config-doc.ts           rewrite the file
 *   node scripts/config-doc.ts --check   exit 1 when the file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { renderConfigDoc } from '../src/config/doc.ts'

const file = fileURLToPath(new URL('../docs/CONFIGURATION.md', import.meta.url))
const text = renderConfigDoc()

if (process.argv.includes('--check')) {
  let current = ''
  try { current = readFileSync(file, 'utf8') } catch { /* missing: out of date */ }
  if (current !== text) {
    process.stderr.write(`${file} is out of date; run: node scripts/config-doc.ts\n`)
    process.exitCode = 1
  }
} else {
  writeFileSync(file, text)
  process.stdout.write(`wrote ${file}\n`)
}
