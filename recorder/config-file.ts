/** Reading a config file (JSON or YAML) into an unknown value for `resolveConfig`. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/config.js';

export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`--config ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  return parseConfigText(path, text);
}

/** A config file's text (JSON for `.json`, YAML for `.yaml`/`.yml`) into a mapping for `resolveConfig`. */
export function parseConfigText(path: string, text: string): Record<string, unknown> {
  const extension = extname(path).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(extension)) {
    throw new ConfigError([`--config ${path}: expected a .json, .yaml or .yml file`]);
  }
  let parsed: unknown;
  try {
    parsed = extension === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError([
      `--config ${path}: not valid ${extension === '.json' ? 'JSON' : 'YAML'} (${(error as Error).message.split('\n')[0]})`,
    ]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([
      `--config ${path}: expected a mapping of config fields, found ${Array.isArray(parsed) ? 'a list' : JSON.stringify(parsed)}`,
    ]);
  }
  return parsed as Record<string, unknown>;
}
