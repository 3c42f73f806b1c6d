import { createTemplateDatabase } from '@partner-oauth/storage/testing';
import type { TestProject } from 'vitest/node';

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
