/**
 * The port of semantic search: something that turns texts into vectors (embeddings), close
 * together when their meanings are. One provider is built in (OpenAiEmbedder.ts: the
 * OpenAI-compatible embeddings API that Ollama, llama.cpp's server, LM Studio and others serve
 * locally); tests and embedders of the library may bring their own.
 *
 * Vectors of different models are never compared: `model` names the space they live in.
 */
export interface Embedder {
  /** The model, as configured (it names the vector space). */
  readonly model: string
  /** Where it runs, for status and messages (a URL). */
  readonly location: string
  /**
   * One vector per text, in order, all of one length. Rejects with an EngramError: UNAVAILABLE
   * when the service cannot answer now (retrying later may work), PROTOCOL when it answers
   * something that is not embeddings, INVALID_INPUT when it refuses the request (a wrong model).
   */
  embed (texts: readonly string[]): Promise<Float32Array[]>
}
