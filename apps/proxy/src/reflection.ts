import { createRegistry, type DescFile, type DescService, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, type ConnectRouter } from '@connectrpc/connect';
import * as v1 from '@prism/proto/grpc/reflection/v1/reflection_pb';
import * as v1alpha from '@prism/proto/grpc/reflection/v1alpha/reflection_pb';

type Request = v1.ServerReflectionRequest;
type Response = Pick<v1.ServerReflectionResponse, 'messageResponse'>;

/**
 * gRPC server reflection (v1 and v1alpha) for the services the proxy mounts, so `buf curl`, grpcurl and
 * Postman can call Prism without a local copy of the protos.
 */
export function mountReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const files = new Map<string, DescFile>();
  const addFile = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dep of file.dependencies) addFile(dep);
  };
  const all = [...services, v1.ServerReflection, v1alpha.ServerReflection];
  for (const service of all) addFile(service.file);
  const registry = createRegistry(...files.values());
  const encoded = new Map([...files.values()].map((f) => [f, toBinary(FileDescriptorProtoSchema, f.proto)]));
  const encode = (file: DescFile) => encoded.get(file) ?? toBinary(FileDescriptorProtoSchema, file.proto);

  /** The file and everything it imports, each once, the file itself first. */
  const withDependencies = (file: DescFile): Response => {
    const out: DescFile[] = [];
    const visit = (f: DescFile) => {
      if (out.includes(f)) return;
      out.push(f);
      for (const dep of f.dependencies) visit(dep);
    };
    visit(file);
    return {
      messageResponse: {
        case: 'fileDescriptorResponse',
        value: {
          $typeName: 'grpc.reflection.v1.FileDescriptorResponse',
          fileDescriptorProto: out.map(encode),
        },
      },
    };
  };

  const notFound = (what: string): Response => ({
    messageResponse: {
      case: 'errorResponse',
      value: {
        $typeName: 'grpc.reflection.v1.ErrorResponse',
        errorCode: Code.NotFound,
        errorMessage: `${what} not found`,
      },
    },
  });

  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const type = registry.get(symbol);
    if (type) return type.file;
    // A method: <package>.<Service>.<Method>
    const service = registry.getService(symbol.slice(0, symbol.lastIndexOf('.')));
    return service?.methods.some((m) => m.name === symbol.slice(symbol.lastIndexOf('.') + 1))
      ? service.file
      : undefined;
  };

  const answer = (req: Request): Response => {
    const r = req.messageRequest;
    switch (r.case) {
      case 'listServices':
        return {
          messageResponse: {
            case: 'listServicesResponse',
            value: {
              $typeName: 'grpc.reflection.v1.ListServiceResponse',
              service: all.map((s) => ({
                $typeName: 'grpc.reflection.v1.ServiceResponse',
                name: s.typeName,
              })),
            },
          },
        };
      case 'fileByFilename': {
        const file = files.get(r.value);
        return file ? withDependencies(file) : notFound(`file "${r.value}"`);
      }
      case 'fileContainingSymbol': {
        const file = fileOfSymbol(r.value);
        return file ? withDependencies(file) : notFound(`symbol "${r.value}"`);
      }
      case 'fileContainingExtension':
        return notFound(`extension ${r.value.containingType}#${r.value.extensionNumber}`);
      case 'allExtensionNumbersOfType':
        return {
          messageResponse: {
            case: 'allExtensionNumbersResponse',
            value: {
              $typeName: 'grpc.reflection.v1.ExtensionNumberResponse',
              baseTypeName: r.value,
              extensionNumber: [],
            },
          },
        };
      default:
        return {
          messageResponse: {
            case: 'errorResponse',
            value: {
              $typeName: 'grpc.reflection.v1.ErrorResponse',
              errorCode: Code.InvalidArgument,
              errorMessage: 'empty reflection request',
            },
          },
        };
    }
  };

  async function* info(requests: AsyncIterable<Request>) {
    for await (const req of requests) yield { validHost: req.host, originalRequest: req, ...answer(req) };
  }
  router.service(v1.ServerReflection, { serverReflectionInfo: info });
  // v1alpha has the same messages under another package name; their shapes are identical.
  router.service(v1alpha.ServerReflection, {
    serverReflectionInfo: info as unknown as (
      requests: AsyncIterable<v1alpha.ServerReflectionRequest>,
    ) => AsyncIterable<v1alpha.ServerReflectionResponse>,
  });
}
