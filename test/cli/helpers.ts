/**
 * The CLI tests' helpers: the one daemon launcher and the built binary, from test/support/.
 */
export * from '../support/daemon.ts'
