import { create, type JsonObject } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  checkBindings,
  checkGremlin,
  checkQuery,
  GraphQuery,
  MAX_GREMLIN_BYTES,
  QueryRequestSchema,
} from './index.js';

const read = { allowWrites: false };
const write = { allowWrites: true };

/** The INVALID_ARGUMENT message `fn` throws (fails when it does not throw one). */
function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    const e = ConnectError.from(err);
    expect(Code[e.code]).toBe('InvalidArgument');
    return e.rawMessage;
  }
  throw new Error('expected INVALID_ARGUMENT, but it passed');
}

describe('checkGremlin: accepted traversals', () => {
  it.each([
    'g.V()',
    'g.V().count()',
    "g.V('a').out('knows').values('name')",
    'g.V(start).out(lbl).limit(n).values(prop)',
    "g.V().has('person', 'age', P.gt(30)).order().by('name', Order.desc)",
    "g.V().has('name', within(names)).values('name')",
    "g.V().hasLabel('person').where(__.out('knows').count().is(P.gte(2)))",
    'g.V().repeat(out()).times(2).path().by(T.id)',
    'g.V().group().by(T.label).by(__.count())',
    "g.V().project('n', 'c').by('name').by(__.outE().count())",
    'g.V().valueMap(true)',
    "g.V().elementMap('name', 'age')",
    'g.V().has("name", "Ada")',
    "g.V().has('score', -1.5).has('big', 10L).has('e', 1e3).has('f', 2.5d)",
    "g.V().has('s', 'it\\'s \\u00e9 \\n')",
    'g.inject([1, 2, 3]).unfold()',
    "g.V().order().by(values('age'), desc).limit(1)",
    "g.V().choose(__.has('age'), __.values('age'), __.constant(0))",
    'g.V().order().by(shuffle).limit(1)',
    '  g.V()\n   .out()\n   .count()  ',
    "g.V().as('a').out().as('b').select('a', 'b').by(T.id)",
    "g.V().in('knows').inE().outV()",
    'g.V().local(__.outE().limit(1))',
    "g.V().has('name', TextP.startingWith('A'))",
    'g.E(e).inV()',
  ])('accepts %s', (text) => {
    expect(() => checkGremlin(text, read)).not.toThrow();
  });

  it('reports bare identifiers as references, but not Gremlin tokens or step names', () => {
    const r = checkGremlin("g.V(start).out(lbl).order().by('n', desc).limit(n).values(T.id)", read);
    expect(r.references.map((x) => x.name)).toEqual(['start', 'lbl', 'n']);
    expect(r.references[0]!.position).toBe(4);
    expect(r.steps).toEqual(['V', 'out', 'order', 'by', 'limit', 'values']);
  });
});

describe('checkGremlin: rejected constructs', () => {
  it.each([
    ['g.V().map{ it.get() }', /lambda/],
    ['g.V().filter { true }', /lambda/],
    ["g.V().values('name'); System.exit(0)", /statement/],
    ['System.exit(0)', /"System"/],
    ["new File('/etc/passwd')", /"new"/],
    ['def x = g.V()', /assignment|"def"/],
    ['x = 1', /assignment/],
    ["g.V().getClass().forName('java.lang.Runtime')", /"getClass"/],
    ['g.V().class', /"class"/],
    ['g.V().metaClass', /"metaClass"/],
    ["g.V().values(name).getProperty('x')", /"getProperty"/],
    ['g.V().values("\u0024{x}")', /GString/],
    ['g.V().values("$x")', /GString/],
    ['g.V().values("""x""")', /triple/],
    ["g.V().values('''x''')", /triple/],
    ['@Grab(x) g.V()', /annotation/],
    ['g.V().values(`x`)', /backtick/],
    ["g.V().map(Lambda.function('it'))", /"Lambda"/],
    ["Runtime.getRuntime().exec('id')", /"Runtime"/],
    ["graph.io('x').readGraph('y')", /"graph"/],
    ['V()', /starting with "g\."/],
    ['h.V()', /starting with "g\."/],
    ['g', /starting with "g\."/],
    ['g.V', /step call/],
    ["g.V().values('x') + 'y'", /arithmetic/],
    ["g.V().has('age', 1 > 0)", /comparison/],
    ['g.V().has(a ? b : c)', /operator|":"/],
    ['g.V()?.out()', /operator/],
    ['g.V()*.out()', /operator/],
    ['g.V() // comment', /"\/"/],
    ['g.V() /* c */', /"\/"/],
    ["g.V().has('a', [k: 1])", /":"/],
    ["g.V().has('unterminated)", /unterminated/],
    ["g.V().has('bad \\q escape')", /escape/],
    ['g.V().limit(1..3)', /expected|unexpected/],
    ['g.V().out(System.getenv())', /"System"/],
    ['g.V().out(java.lang.Runtime)', /"java"/],
    ['g.V().out(Foo.bar)', /Gremlin tokens/],
    ['g.V().out()).count()', /unexpected/],
    ['g.V().out(', /unexpected|expected/],
    ['g.V() g.E()', /unexpected/],
    ['g.V().has(-x)', /precede a number/],
    ['g.V().has(12abc)', /malformed number/],
    ['g.V().values(this)', /"this"/],
    ['g.V().withoutStrategies(ReadOnlyStrategy)', /withoutStrategies/],
    ["g.V().values('a')\u0000", /unexpected character/],
    ["g.V().values('a')\\", /unexpected character/],
    ['g.withStrategies(PartitionStrategy).V()', /withStrategies/],
    ['g.withComputer().V()', /withComputer/],
    ["g.io('/etc/passwd').read()", /io\(\)/],
    ["g.V().program('x')", /program/],
    ['g.V().out(__.class)', /"class"/],
    ['g.V().out(__.outE)', /step call/],
    ['g.V().asAdmin().getGraph()', /asAdmin\(\) is not a Gremlin step/],
    ['g.V().getBytecode()', /getBytecode/],
    ["g.V().out('x').foo()", /foo\(\) is not a Gremlin step/],
    ['g.V().has(P.xyz(1))', /xyz\(\) is not/],
    ['g.V().out(P)', /"P" must be followed/],
    ['g.V().out(__)', /"__" must be followed/],
  ])('rejects %s', (text, why) => {
    expect(rejection(() => checkGremlin(text, write))).toMatch(why);
  });

  it('names the position of the offending construct', () => {
    expect(rejection(() => checkGremlin('g.V().map{ it }', write))).toMatch(/position 9/);
    expect(rejection(() => checkGremlin('g.V().drop()', read))).toMatch(/drop\(\).*position 6/);
  });
});

describe('checkGremlin: writes', () => {
  const mutating = [
    "g.addV('person')",
    "g.addE('knows').from(__.V(a)).to(__.V(b))",
    "g.V(a).property('name', n)",
    'g.V(a).drop()',
    'g.E().drop()',
    'g.V(a).properties().drop()',
    'g.mergeV(m)',
    'g.mergeE(m)',
    "g.V().sideEffect(__.addV('x'))",
    "g.V().coalesce(__.V(a), __.addV('x'))",
    "g.V().choose(__.has('x'), __.drop(), __.identity())",
    "g.V().where(__.property('x', 1))",
  ];
  it.each(mutating)('rejects %s on a read-only namespace, naming the step', (text) => {
    expect(rejection(() => checkGremlin(text, read))).toMatch(/read-only/);
  });
  it('allows them when writes are allowed', () => {
    for (const text of mutating) expect(() => checkGremlin(text, write)).not.toThrow();
  });
  it.each([
    ["g.io('/etc/passwd').read()", 'io'],
    ["g.V().io('/tmp/out.json')", 'io'],
    ['g.V().fold().read()', 'read'],
    ['g.V().out(__.read())', 'read'],
    ['g.V().out(__.write())', 'write'],
    ['g.V().fold().write()', 'write'],
    ["g.call('tinker.search')", 'call'],
    ["g.V().call('tinker.degree').with('key', 1)", 'call'],
    ['g.withComputer().V().pageRank()', 'withComputer'],
    ["g.V().program('x')", 'program'],
    ['g.withStrategies(PartitionStrategy).V()', 'withStrategies'],
    ['g.withoutStrategies(ReadOnlyStrategy).V().drop()', 'withoutStrategies'],
  ])('rejects %s always, also with writes allowed', (text, step) => {
    for (const options of [read, write]) {
      const message = rejection(() => checkGremlin(text, options));
      expect(message).toContain(`step ${step}() is not allowed`);
      expect(message).not.toMatch(/read-only/);
    }
  });
  it('keeps rejecting Groovy when writes are allowed', () => {
    rejection(() => checkGremlin("g.addV('x').property('n', n); System.exit(0)", write));
    rejection(() => checkGremlin("g.addV('x').sideEffect{ it }", write));
  });
});

describe('checkBindings and checkQuery', () => {
  const req = (gremlin: string, bindings: JsonObject = {}, limit = 0) =>
    create(QueryRequestSchema, { namespace: 'ns', gremlin, bindings, limit });

  it('accepts scalars and lists of scalars under valid names', () => {
    expect(() =>
      checkBindings({ a: 'x', _b2: 1.5, c: true, list: ['a', 1, false], empty: [] }),
    ).not.toThrow();
    expect(() => checkQuery(req('g.V(a).limit(n)', { a: 'x', n: 2 }), false)).not.toThrow();
  });

  it.each<[JsonObject, RegExp]>([
    [{ '1a': 'x' }, /1a/],
    [{ 'a-b': 'x' }, /a-b/],
    [{ ['x'.repeat(65)]: 'x' }, /bindings name/],
    [{ a: null }, /bindings\.a/],
    [{ a: { b: 1 } }, /bindings\.a/],
    [{ a: [{ b: 1 }] }, /bindings\.a\[0\]/],
    [{ a: [[1]] }, /bindings\.a\[0\]/],
    [{ a: Number.NaN }, /bindings\.a/],
    [{ a: [1, Number.POSITIVE_INFINITY] }, /bindings\.a\[1\]/],
    [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`b${i}`, i])), /64/],
  ])('rejects bindings %j', (bindings, why) => {
    expect(rejection(() => checkBindings(bindings))).toMatch(why);
  });

  it('rejects unbound references, token-named bindings, limits and oversized text', () => {
    expect(rejection(() => checkQuery(req('g.V(who)'), false))).toMatch(/"who" at position 4/);
    // Names an empty object inherits are not bindings.
    expect(rejection(() => checkQuery(req('g.V(constructor)'), false))).toMatch(/"constructor"/);
    expect(rejection(() => checkQuery(req('g.V(toString)', { a: 1 }), false))).toMatch(/"toString"/);
    expect(rejection(() => checkQuery(req('g.V(id)', { id: 'x' }), false))).toMatch(
      /"id" is a Gremlin token/,
    );
    expect(rejection(() => checkQuery(req('g.V(x)', { x: 1, g: 'x' }), false))).toMatch(
      /"g" is the traversal source/,
    );
    expect(rejection(() => checkQuery(req('g.V()', {}, 10_001), false))).toMatch(/10000/);
    expect(rejection(() => checkQuery(req('   '), false))).toMatch(/empty/);
    const big = `g.V().has('a', '${'é'.repeat(MAX_GREMLIN_BYTES / 2)}')`;
    expect(rejection(() => checkQuery(req(big), false))).toMatch(/64 KiB/);
    expect(() => checkQuery(req('g.V().limit(10000)', {}, 10_000), false)).not.toThrow();
  });

  it('the contract validator rejects Groovy but leaves writes to the adapter', () => {
    const validate = GraphQuery.validate.query!;
    expect(() => validate(req("g.addV('x')"), DEFAULT_LIMITS)).not.toThrow();
    rejection(() => validate(req('g.V().map{ it }'), DEFAULT_LIMITS));
    expect(GraphQuery.name).toBe('graph_query');
    expect(GraphQuery.access.query).toBe('read');
  });
});
