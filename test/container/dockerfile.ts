/**
 * A small Dockerfile reader for the container tests: enough of the syntax (comments, line
 * continuations, ARG defaults, stages, exec-form JSON) to check what the image does without Docker.
 */

/** One instruction, its arguments as written (continuations joined). */
export interface Instruction {
  /** Upper-case keyword, e.g. `COPY`. */
  keyword: string;
  /** Everything after the keyword. */
  args: string;
  /** 1-based line where it starts. */
  line: number;
}

/** A build stage: its `FROM` and the instructions after it. */
export interface Stage {
  /** The base image reference with ARGs substituted. */
  from: string;
  /** `AS name`, if given. */
  name?: string;
  /** Instructions of this stage (without the FROM). */
  instructions: Instruction[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  /** Stages in order; the last one is the image. */
  stages: Stage[];
}

/** Parses Dockerfile text. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  let current: Instruction | undefined;
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    const trimmed = line.trim();
    // Comments and parser directives; inside a continuation, comment lines are skipped too.
    if (trimmed.startsWith('#') || (trimmed === '' && current === undefined)) return;
    const continues = line.endsWith('\\');
    const content = continues ? line.slice(0, -1) : line;
    if (current === undefined) {
      const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(content);
      if (match === null) throw new Error(`line ${index + 1}: not an instruction: ${raw}`);
      current = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: index + 1 };
    } else {
      current.args = `${current.args} ${content.trim()}`.trim();
    }
    if (!continues) {
      instructions.push(current);
      current = undefined;
    }
  });
  if (current !== undefined) instructions.push(current);

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  const substitute = (s: string) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => globalArgs[(a ?? b)!] ?? '');
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args.split(/\s+/);
      stages.push({ from: substitute(image!), ...(as?.toUpperCase() === 'AS' && name !== undefined ? { name } : {}), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [key, value] = ins.args.split('=', 2);
        globalArgs[key!.trim()] = (value ?? '').trim();
      }
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** A COPY instruction's parts. */
export interface Copy {
  /** `--from=` stage, if any. */
  from?: string;
  /** Source paths (relative to the build context, or to the `from` stage's filesystem). */
  sources: string[];
  /** Destination (relative to WORKDIR unless absolute). */
  dest: string;
}

/** Splits `COPY [--flags] src… dest` (shell form; exec form JSON too). */
export function parseCopy(args: string): Copy {
  const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from !== undefined ? { from } : {}), sources: paths.slice(0, -1), dest: paths[paths.length - 1]! };
}

/** The exec-form JSON array of CMD/ENTRYPOINT, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trim().startsWith('[')) return undefined;
  return JSON.parse(args) as string[];
}

/** Instructions of `stage` with `keyword`. */
export function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The last instruction of `stage` with `keyword` (CMD, USER, WORKDIR: the last one wins). */
export function last(stage: Stage, keyword: string): Instruction | undefined {
  return all(stage, keyword).at(-1);
}
