import type { TestProject } from 'vitest/node';
import { createTemplateDatabase } from '../src/testing.js';

export default async function setup(project: TestProject) {
  const template = await createTemplateDatabase();
  project.provide('templateDatabase', template.name);
  return template.drop;
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}
