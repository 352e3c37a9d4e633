/**
 * Stack traces of the built executable that name the src/ files. The build bundles the CLI into
 * a few files with a source map beside each (scripts/build-cli.ts); a frame in one of them is
 * mapped back to its src/ file, line and column. Node.js's own source-map support
 * (--enable-source-maps) reads and parses the map of every file as it loads, about a tenth of a
 * daemon's start; here a file's map is read only when a stack trace names that file, then kept.
 * Frames in other files (node: internals, node_modules loaded unbundled) are left as they are.
 */
import { readFileSync } from 'node:fs'
import { SourceMap, type SourceMapPayload } from 'node:module'

/**
 * Formats every stack trace of this process with the frames of the files in `dir` (a file URL
 * ending in '/': the directory of the bundle) mapped through the source map beside each file.
 */
export function mapStackTraces (dir: string): void {
  const maps = new Map<string, SourceMap | null>()
  const mapOf = (file: string): SourceMap | null => {
    let map = maps.get(file)
    if (map === undefined) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(new URL(`${file}.map`), 'utf8')) as SourceMapPayload)
      } catch {
        map = null // no map beside it
      }
      maps.set(file, map)
    }
    return map
  }
  const frame = (site: NodeJS.CallSite): string => {
    const text = site.toString()
    const file = site.getFileName() ?? undefined
    const line = site.getLineNumber()
    const column = site.getColumnNumber()
    if (file === undefined || line === null || column === null || !file.startsWith(dir)) return text
    const entry = mapOf(file)?.findEntry(line - 1, column - 1)
    if (entry === undefined || !('originalSource' in entry)) return text
    const source = new URL(entry.originalSource, file)
    const named = source.protocol === 'file:' ? decodeURIComponent(source.pathname) : source.href
    return text.replace(`${file}:${line}:${column}`, `${named}:${entry.originalLine + 1}:${entry.originalColumn + 1}`)
  }
  Error.prepareStackTrace = (error: Error, sites: NodeJS.CallSite[]): string => {
    let head: string
    try {
      head = Error.prototype.toString.call(error)
    } catch {
      head = '<error>'
    }
    return head + sites.map(s => `\n    at ${frame(s)}`).join('')
  }
}
