/**
 * Writes test/fixtures/canonical-vectors.json: the golden vectors of the canonical encodings
 * (docs/DATA-MODEL.md). Run once; the file is committed and test/unit/canonical.test.ts
 * recomputes every vector, so any change to the encoding fails the tests.
 *
 *   node scripts/gen-canonical-vectors.ts            # refuses to overwrite an existing file
 *   node scripts/gen-canonical-vectors.ts --force    # only for a deliberate new encoding version
 *
 * The RFC 8785 vectors are copied from the RFC, not computed: the script stops if this
 * implementation disagrees with them.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { canonicalJson, canonicalTriple, traceId, tripleId } from '../src/core/canonical.ts'
import { bytesToHex } from '../src/core/hash.ts'
import { validateHlc } from '../src/core/hlc.ts'
import type { Json } from '../src/core/model.ts'
import { termToTagged, validateTripleContent } from '../src/core/validate.ts'

const OUT = fileURLToPath(new URL('../test/fixtures/canonical-vectors.json', import.meta.url))

/** Triple inputs as JSON text (so that -0 and number spellings survive), as a client sends them. */
const TRIPLES: [name: string, json: string][] = [
  ['string (the worked example)', '{"subject":"user:alice","predicate":"prefers:editor","object":"vim"}'],
  ['node', '{"subject":"user:alice","predicate":"knows","object":{"node":"user:bob"}}'],
  ['string, empty', '{"subject":"user:alice","predicate":"nickname","object":""}'],
  ['string, non-ASCII (2- and 3-byte UTF-8)', '{"subject":"place:zurich","predicate":"name","object":"Zürich 東京"}'],
  ['string, emoji (4-byte UTF-8, a surrogate pair in UTF-16)', '{"subject":"user:alice","predicate":"mood","object":"🧠✨"}'],
  ['non-ASCII subject and predicate', '{"subject":"Benutzer:Jürgen","predicate":"mag:Getränk","object":"Tee"}'],
  ['subject longer than 127 bytes (two-byte length)', `{"subject":"doc:${'a'.repeat(200)}","predicate":"p","object":"x"}`],
  ['lang, lower case', '{"subject":"word:hello","predicate":"translation","object":{"text":"bonjour","lang":"fr"}}'],
  ['lang, upper case input is lowered', '{"subject":"word:hello","predicate":"translation","object":{"text":"bonjour","lang":"FR"}}'],
  ['lang with region, mixed case input', '{"subject":"word:hello","predicate":"translation","object":{"text":"olá","lang":"pt-BR"}}'],
  ['lang, empty text', '{"subject":"word:hello","predicate":"translation","object":{"text":"","lang":"en"}}'],
  ['number, integer', '{"subject":"user:alice","predicate":"age","object":42}'],
  ['number, zero', '{"subject":"m:x","predicate":"value","object":0}'],
  ['number, negative zero encodes as zero', '{"subject":"m:x","predicate":"value","object":-0}'],
  ['number, 0.1', '{"subject":"m:x","predicate":"value","object":0.1}'],
  ['number, 1e21', '{"subject":"m:x","predicate":"value","object":1e21}'],
  ['number, negative fraction', '{"subject":"m:x","predicate":"value","object":-273.15}'],
  ['number, smallest subnormal', '{"subject":"m:x","predicate":"value","object":5e-324}'],
  ['number, tagged form', '{"subject":"user:alice","predicate":"age","object":{"kind":"number","value":42}}'],
  ['boolean, true', '{"subject":"user:alice","predicate":"active","object":true}'],
  ['boolean, false', '{"subject":"user:alice","predicate":"active","object":false}'],
  ['datetime, UTC', '{"subject":"event:launch","predicate":"at","object":{"datetime":"2026-11-20T09:30:00.000Z"}}'],
  ['datetime, offset normalized to UTC', '{"subject":"event:launch","predicate":"at","object":{"datetime":"2026-11-20T11:30:00+02:00"}}'],
  ['datetime, no seconds, negative offset across midnight', '{"subject":"event:launch","predicate":"at","object":{"datetime":"2026-11-19T22:30-11:00"}}'],
  ['datetime, sub-millisecond digits dropped', '{"subject":"event:launch","predicate":"at","object":{"datetime":"2026-11-20T09:30:00.123987Z"}}'],
  ['json, nested object with unsorted keys', '{"subject":"cfg:editor","predicate":"settings","object":{"json":{"z":1,"a":{"c":[true,null],"b":"x"},"é":-0,"E":1e-7}}}'],
  ['json, same value with keys in another order', '{"subject":"cfg:editor","predicate":"settings","object":{"json":{"E":1e-7,"a":{"b":"x","c":[true,null]},"é":0,"z":1}}}'],
  ['json, a string (distinct from a string literal)', '{"subject":"user:alice","predicate":"nickname","object":{"json":""}}'],
  ['json, an array', '{"subject":"user:alice","predicate":"langs","object":{"json":["ts","rust",1e21]}}'],
  ['json, null', '{"subject":"user:alice","predicate":"manager","object":{"json":null}}']
]

const TRACES: [name: string, runId: string, type: string, data: Json, hlc: unknown][] = [
  ['tool call', 'run-1', 'tool_call', { tool: 'grep', args: { q: 'TODO', path: 'src' } }, { wall: 1763631000000, counter: 0, node: 'node-a' }],
  ['same entry, data keys in another order', 'run-1', 'tool_call', { args: { path: 'src', q: 'TODO' }, tool: 'grep' }, { wall: 1763631000000, counter: 0, node: 'node-a' }],
  ['same content, another stamp', 'run-1', 'tool_call', { tool: 'grep', args: { q: 'TODO', path: 'src' } }, { wall: 1763631000000, counter: 1, node: 'node-a' }],
  ['null data, non-ASCII run id', 'lauf-ü', 'end', null, { wall: 0, counter: 65535, node: '12D3KooWExample' }]
]

/** RFC 8785 section 3.2.2 and 3.2.3 examples, and small cases: [name, input JSON text, expected]. */
const JSON_CASES: [name: string, input: string, expected: string][] = [
  ['RFC 8785 3.2.2 example',
    '{\n  "numbers": [333333333.33333329, 1E30, 4.50,\n              2e-3, 0.000000000000000000000000001],\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'],
  ['RFC 8785 3.2.3 sorting by UTF-16 code units',
    '{\n  "\\u20ac": "Euro Sign",\n  "\\r": "Carriage Return",\n  "\\ufb33": "Hebrew Letter Dalet With Dagesh",\n  "1": "One",\n  "\\ud83d\\ude00": "Emoji: Grinning Face",\n  "\\u0080": "Control",\n  "\\u00f6": "Latin Small Letter O With Diaeresis"\n}',
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
      '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'],
  ['negative zero', '[-0, -0.0, 0]', '[0,0,0]'],
  ['exponent forms', '[1e21, 1e20, 1e-7, 1e-6, 123e-2, 1E+2]', '[1e+21,100000000000000000000,1e-7,0.000001,1.23,100]'],
  ['escapes: control characters lower-case hex, short forms, no / or U+2028 escape',
    '"\\u0000\\b\\t\\n\\f\\r\\u001f\\"\\\\\\/\\u007f\\u2028é😀"',
    '"\\u0000\\b\\t\\n\\f\\r\\u001f\\"\\\\/\u007f\u2028é😀"'],
  ['keys: case, prefixes, empty key', '{"b":1,"a":2,"aa":3,"A":4,"":5,"a b":6}', '{"":5,"A":4,"a":2,"a b":6,"aa":3,"b":1}'],
  ['nesting, empty containers, whitespace dropped', '{ "x" : [ { } , [ ] , { "y" : { "z" : null } } ] }', '{"x":[{},[],{"y":{"z":null}}]}'],
  ['top-level scalars', '[true, false, null, "", 1]', '[true,false,null,"",1]']
]

/** RFC 8785 Appendix B: IEEE 754 bit patterns and their serialization. */
const NUMBERS: [bits: string, expected: string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2']
]

export const fromBits = (bits: string): number => Buffer.from(bits, 'hex').readDoubleBE(0)

function main (): void {
  if (existsSync(OUT) && !process.argv.includes('--force')) {
    console.error(`${OUT} exists; the vectors are written once. Pass --force only for a new encoding version.`)
    process.exit(1)
  }
  const triples = TRIPLES.map(([name, json]) => {
    const content = validateTripleContent(JSON.parse(json))
    return { name, input: json, object: termToTagged(content.object), canonicalHex: bytesToHex(canonicalTriple(content)), id: tripleId(content) }
  })
  const traces = TRACES.map(([name, runId, type, data, hlc]) =>
    ({ name, runId, type, data, hlc, id: traceId(runId, type, data, validateHlc(hlc)) }))
  for (const [name, input, expected] of JSON_CASES) {
    const got = canonicalJson(JSON.parse(input) as Json)
    if (got !== expected) throw new Error(`canonicalJson disagrees on "${name}": ${JSON.stringify(got)} != ${JSON.stringify(expected)}`)
  }
  for (const [bits, expected] of NUMBERS) {
    const got = canonicalJson(fromBits(bits))
    if (got !== expected) throw new Error(`canonicalJson disagrees on 0x${bits}: ${got} != ${expected}`)
  }
  const fixture = {
    about: 'Golden vectors of the canonical encodings in docs/DATA-MODEL.md, encoding version 1. ' +
      'Written once by scripts/gen-canonical-vectors.ts; never edit by hand. ' +
      'triples[].input is the JSON text a client sends; object is the normalized term; ' +
      'canonicalHex the canonical bytes; id = BLAKE3-256(canonical bytes).',
    version: 1,
    triples,
    traces,
    canonicalJson: JSON_CASES.map(([name, input, expected]) => ({ name, input, expected })),
    numbers: NUMBERS.map(([bits, expected]) => ({ bits, expected }))
  }
  writeFileSync(OUT, `${JSON.stringify(fixture, null, 2)}\n`)
  console.log(`wrote ${triples.length} triple, ${traces.length} trace, ${JSON_CASES.length} JSON and ${NUMBERS.length} number vectors to ${OUT}`)
}

main()
