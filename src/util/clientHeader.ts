/**
 * The header engram's own clients send on every request (any value): a POST that carries it is
 * taken as a program's, since no web form can send it (util/localRequest.ts). api/contract.ts
 * publishes it to the clients.
 */
export const CLIENT_HEADER_NAME = 'x-engram-client'
