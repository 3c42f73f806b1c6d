// Every URL setting is parsed at start: a mistyped one is refused by name, and its password never quoted.
import { describe, expect, it } from 'vitest';
import { CommonConfig, ConfigError, loadConfig, Type, urlProblem } from '../src/index.js';

const Schema = Type.Object({
  ...CommonConfig,
  ISSUER: Type.String({ default: 'http://localhost:3000' }),
  PUBLIC_URL: Type.Optional(Type.String()),
});

describe('urlProblem', () => {
  it.each([
    ['DATABASE_URL', 'postgres://u:pw@127.0.0.1:5432/db'],
    ['DATABASE_URL', 'postgresql://u@db.internal/oauth?sslmode=require'],
    ['DATABASE_URL', 'postgres:///oauth?host=/run/postgresql'],
    ['REDIS_URL', 'redis://:pw@127.0.0.1:6379/0'],
    ['REDIS_URL', 'rediss://cache.internal:6380'],
    ['REDIS_URL', 'redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2/mymaster'],
    ['ISSUER', 'https://auth.example.com'],
    ['PUBLIC_URL', 'http://127.0.0.1:3001'],
  ])('accepts %s=%s', (name, value) => {
    expect(urlProblem(name, value)).toBeUndefined();
  });

  it.each([
    ['DATABASE_URL', 'postgres//u:pw@127.0.0.1/db', 'not a URL (must start with postgres:// or postgresql://)'],
    ['DATABASE_URL', '127.0.0.1:5432', 'not a URL (must start with postgres:// or postgresql://)'],
    [
      'DATABASE_URL',
      'postgres://u:pw@127.0.0.1:54x2/db',
      'not a URL (check the port is a number and special characters in the password are percent-encoded)',
    ],
    ['DATABASE_URL', 'mysql://u:pw@127.0.0.1/db', 'must start with postgres:// or postgresql://'],
    ['REDIS_URL', 'redis//127.0.0.1:6391', 'not a URL (must start with redis:// or rediss:// or redis-sentinel://)'],
    ['REDIS_URL', 'redis://', 'not a URL (no host)'],
    ['REDIS_URL', 'redis-sentinel://10.0.0.1:26379', 'not a URL (redis-sentinel://[:password@]host:port[,host:port…]/<master name>)'],
    ['REDIS_URL', 'redis-sentinel://10.0.0.1:2x/m', 'not a URL (each sentinel is host or host:port, the port a number)'],
    ['ISSUER', 'https//auth.example.com', 'not a URL (must start with http:// or https://)'],
    ['PUBLIC_URL', 'ftp://files.example.com', 'must start with http:// or https://'],
  ])('refuses %s=%s', (name, value, problem) => {
    expect(urlProblem(name, value)).toBe(problem);
  });
});

describe('loadConfig', () => {
  it('names every bad URL setting in one ConfigError without quoting the values', () => {
    const load = () =>
      loadConfig(Schema, { DATABASE_URL: 'postgres//u:hunter2@db/x', REDIS_URL: 'redis://:hunter2@h:6x', PUBLIC_URL: 'http://ok.example' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      [
        'invalid configuration:',
        '  DATABASE_URL: not a URL (must start with postgres:// or postgresql://)',
        '  REDIS_URL: not a URL (check the port is a number and special characters in the password are percent-encoded)',
      ].join('\n'),
    );
    try {
      load();
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
  });

  it('leaves unset optional URL settings alone', () => {
    expect(loadConfig(Schema, {}).DATABASE_URL).toBeUndefined();
  });
});
