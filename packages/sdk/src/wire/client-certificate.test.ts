import { describe, expect, it } from '@jest/globals';
import { certificateIdentity } from './client-certificate.js';

describe('certificateIdentity', () => {
  it('takes the URI SAN (SPIFFE) first, then the DNS SAN, then the CN', () => {
    const subject = { CN: 'app-cn' } as never;
    expect(
      certificateIdentity({ subject, subjectaltname: 'DNS:app.test, URI:spiffe://prism.test/app' }),
    ).toBe('spiffe://prism.test/app');
    expect(certificateIdentity({ subject, subjectaltname: 'IP Address:127.0.0.1, DNS:app.test' })).toBe(
      'app.test',
    );
    expect(certificateIdentity({ subject, subjectaltname: '' })).toBe('app-cn');
    expect(certificateIdentity({ subject: {} as never, subjectaltname: '' })).toBe('');
  });

  it('reads JSON-quoted entries (values with special characters)', () => {
    expect(
      certificateIdentity({
        subject: {} as never,
        subjectaltname: 'URI:"spiffe://prism.test/a,b", DNS:x.test',
      }),
    ).toBe('spiffe://prism.test/a,b');
  });
});
