/**
 * XDG base directories (https://specifications.freedesktop.org/basedir-spec/): where engram
 * keeps its data and its cache and looks for its config file. Pure functions of the environment passed in,
 * so tests and embedders can point them anywhere.
 */
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'

export type Env = Readonly<Record<string, string | undefined>>

/** The user's home directory: $HOME when set, else the OS account's home. */
export function homeDir (env: Env): string {
  const home = env.HOME
  return home !== undefined && home !== '' ? home : homedir()
}

/** An XDG variable's value when it is an absolute path (the spec says to ignore relative ones). */
function xdgVar (env: Env, name: string): string | undefined {
  const v = env[name]
  return v !== undefined && v !== '' && isAbsolute(v) ? v : undefined
}

/** `$XDG_DATA_HOME/engram`, or `~/.local/share/engram`. */
export function defaultDataDir (env: Env): string {
  return join(xdgVar(env, 'XDG_DATA_HOME') ?? join(homeDir(env), '.local', 'share'), 'engram')
}

/** `$XDG_CACHE_HOME/engram`, or `~/.cache/engram`: what engram may keep between runs and lose at any time. */
export function defaultCacheDir (env: Env): string {
  return join(xdgVar(env, 'XDG_CACHE_HOME') ?? join(homeDir(env), '.cache'), 'engram')
}

/** `$XDG_CONFIG_HOME/engram/config.json5`, or `~/.config/engram/config.json5`. */
export function defaultConfigFile (env: Env): string {
  return join(xdgVar(env, 'XDG_CONFIG_HOME') ?? join(homeDir(env), '.config'), 'engram', 'config.json5')
}
