/**
 * cloudbuild.yaml: parses, tests before it builds, builds from the Dockerfile, pushes to Artifact
 * Registry tagged with the commit, and deploys every tier's service — the ones infra/ creates.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluateChain } from './chain.js';
import { INFRA, ROOT, loadInfra, loadTfvars } from './hcl.js';

interface Step {
  id?: string;
  name: string;
  entrypoint?: string;
  args?: string[];
  script?: string;
  waitFor?: string[];
}
interface BuildConfig {
  steps: Step[];
  substitutions?: Record<string, string>;
  images?: string[];
  options?: Record<string, unknown>;
}

const text = readFileSync(join(ROOT, 'cloudbuild.yaml'), 'utf8');
const build = parse(text) as BuildConfig;
const stepText = (s: Step) => [s.entrypoint ?? '', ...(s.args ?? []), s.script ?? ''].join(' ');
const stepIndex = (pattern: RegExp) => build.steps.findIndex((s) => pattern.test(stepText(s)));

/** Built-in substitutions Cloud Build provides (for triggers, or passed with --substitutions). */
const BUILT_IN = new Set(['PROJECT_ID', 'PROJECT_NUMBER', 'BUILD_ID', 'LOCATION', 'COMMIT_SHA', 'SHORT_SHA', 'REVISION_ID', 'BRANCH_NAME', 'TAG_NAME', 'REPO_NAME', 'TRIGGER_NAME', 'SERVICE_ACCOUNT_EMAIL']);

describe('cloudbuild.yaml', () => {
  it('parses into steps run in order (no waitFor shortcuts)', () => {
    expect(Array.isArray(build.steps)).toBe(true);
    expect(build.steps.length).toBeGreaterThanOrEqual(5);
    for (const step of build.steps) {
      expect(typeof step.name).toBe('string');
      expect(step.waitFor).toBeUndefined();
    }
  });

  it('installs and tests with Node 22 before building anything', () => {
    const install = build.steps.findIndex((s) => s.name === 'node:24' && /^npm ci\b/.test(stepText(s)));
    const test = build.steps.findIndex((s) => s.name === 'node:24' && /^npm test\b/.test(stepText(s)));
    const docker = stepIndex(/\bbuild\b.*--file=Dockerfile/);
    expect(install).toBeGreaterThanOrEqual(0);
    expect(test).toBeGreaterThan(install);
    expect(docker).toBeGreaterThan(test);
  });

  it('builds from the Dockerfile at the repository root and tags the image with the commit', () => {
    const docker = build.steps[stepIndex(/\bbuild\b.*--file=Dockerfile/)]!;
    expect(docker.name).toBe('gcr.io/cloud-builders/docker');
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    const image = '${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/${_IMAGE}';
    expect(docker.args).toContain(`--tag=${image}:$COMMIT_SHA`);
    expect(docker.args).toContain(`--tag=${image}:$SHORT_SHA`);
    expect(docker.args!.at(-1)).toBe('.');
    const push = stepIndex(/^ ?push --all-tags/);
    expect(push).toBeGreaterThan(build.steps.indexOf(docker));
    expect(build.steps[push]!.args).toContain(image);
    expect(build.images).toEqual([`${image}:$COMMIT_SHA`, `${image}:$SHORT_SHA`]);
  });

  it('deploys the commit-tagged image to every service listed in _SERVICES, after the push', () => {
    const deploy = stepIndex(/gcloud run services update/);
    expect(deploy).toBeGreaterThan(stepIndex(/^ ?push --all-tags/));
    const script = stepText(build.steps[deploy]!);
    expect(script).toContain('services=(${_SERVICES})');
    expect(script).toContain('--image="$$image"');
    expect(script).toContain('image="${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/${_IMAGE}:$COMMIT_SHA"');
    expect(script).toContain('--region="${_REGION}"');
    // Every element of the array is visited.
    expect(script).toMatch(/for \(\( i=\$\$\{#services\[@\]\}-1; i>=0; i-- \)\)/);
  });

  it("defaults _SERVICES to every tier's service of the example deployment, in chain order", async () => {
    const infra = await loadInfra();
    const chain = evaluateChain(infra, await loadTfvars(join(INFRA, 'terraform.tfvars.example')));
    const names = Object.keys(chain.tiers)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => chain.tiers[k]!.name);
    expect(build.substitutions?._SERVICES?.split(/\s+/)).toEqual(names);
    expect(build.substitutions?._REGION).toBe(chain.vars.region);
    expect(build.substitutions?._REPOSITORY).toBe(chain.vars.repository_id);
    // The Terraform output prints the matching substitutions for any tier list.
    expect(String(infra.outputs.cloudbuild_substitutions!.value)).toContain('_SERVICES=${join(" ", [for k in sort(keys(local.tiers)) : local.tiers[k].name])}');
  });

  it('declares every substitution it uses and uses every one it declares (Cloud Build rejects both mistakes)', () => {
    const declared = new Set(Object.keys(build.substitutions ?? {}));
    // $$ is a literal dollar for the shell; strip those before looking for substitutions.
    const body = text
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n')
      .replace(/\$\$/g, '');
    const used = new Set([...body.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]!));
    for (const name of used) expect(BUILT_IN.has(name) || declared.has(name), `$${name} is neither built in nor declared`).toBe(true);
    for (const name of declared) expect(used.has(name), `substitution ${name} is never used`).toBe(true);
    for (const name of declared) expect(name.startsWith('_'), name).toBe(true);
  });

  it('documents its substitutions at the top of the file', () => {
    const header = text.slice(0, text.indexOf('substitutions:'));
    for (const name of Object.keys(build.substitutions ?? {})) expect(header).toContain(name);
  });

  it('logs to Cloud Logging only, as builds running as a user-specified account must', () => {
    expect(build.options?.logging).toBe('CLOUD_LOGGING_ONLY');
  });
});
