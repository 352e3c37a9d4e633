/**
 * The type of delta.js for the node's tests, which check it against the node's side of the
 * same format (src/api/statusDelta.ts). Not served to the page.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a snapshot is any JSON value
export function applyChanges (snapshot: any, changes: ReadonlyArray<readonly [ReadonlyArray<string | number>, unknown?]>): any
