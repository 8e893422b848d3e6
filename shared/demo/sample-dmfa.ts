/** What the sample declaration is about. */
export interface SampleDmfaOptions {
  /** Quarter as YYYYQ, e.g. 20263. */
  quarter: string;
  /** Creation date, YYYYMMDD. */
  date: string;
  /** How many workers to declare (the file grows with them). */
  workers?: number;
}

const FIRST_NAMES = ['An', 'Bram', 'Chloé', 'Dries', 'Eline', 'Femke', 'Gilles', 'Hanne'];
const LAST_NAMES = ['Peeters', 'Janssens', 'Maes', 'Jacobs', 'Mertens', 'Willems', 'Dubois'];

function pick<T>(list: readonly T[], index: number): T {
  return list[index % list.length] as T;
}

/** A valid-looking Belgian national number (INSS) with its mod-97 check digits. */
function inss(index: number): string {
  const base = `85${String((index % 12) + 1).padStart(2, '0')}${String((index % 28) + 1).padStart(2, '0')}${String(100 + (index % 800)).padStart(3, '0')}`;
  const check = 97 - (Number(base) % 97);
  return `${base}${String(check).padStart(2, '0')}`;
}

function worker(index: number): string {
  const wage = 3200 + (index % 17) * 85;
  return `      <NaturalPerson>
        <NaturalPersonSequenceNbr>${index + 1}</NaturalPersonSequenceNbr>
        <INSS>${inss(index)}</INSS>
        <WorkerName>${pick(LAST_NAMES, index)}</WorkerName>
        <WorkerFirstName>${pick(FIRST_NAMES, index)}</WorkerFirstName>
        <Worker>
          <WorkerCode>495</WorkerCode>
          <NOSSQuarterStartDate>2026-07-01</NOSSQuarterStartDate>
          <NOSSQuarterEndDate>2026-09-30</NOSSQuarterEndDate>
          <Occupation>
            <OccupationSequenceNbr>1</OccupationSequenceNbr>
            <OccupationStartingDate>2020-01-01</OccupationStartingDate>
            <JointCommissionNbr>200</JointCommissionNbr>
            <WorkingDaysSystem>500</WorkingDaysSystem>
            <MeanWorkingHours>3800</MeanWorkingHours>
            <RefMeanWorkingHours>3800</RefMeanWorkingHours>
            <ContractType>0</ContractType>
            <Remuneration>
              <RemunerationSequenceNbr>1</RemunerationSequenceNbr>
              <RemunCode>001</RemunCode>
              <RemunAmount>${wage * 3}00</RemunAmount>
            </Remuneration>
          </Occupation>
          <WorkerContribution>
            <WorkerCode>495</WorkerCode>
            <ContributionType>2</ContributionType>
            <CalculationBasis>${wage * 3}00</CalculationBasis>
            <Amount>${Math.round(wage * 3 * 13.07)}</Amount>
          </WorkerContribution>
        </Worker>
      </NaturalPerson>
`;
}

/**
 * Builds a realistic (not official) DmfA original declaration in XML: the
 * `Form/Identification` is DMFA so the name's application matches, with an
 * employer, its workers, occupations and wages. For demos and tests only.
 */
export function sampleDmfaXml(options: SampleDmfaOptions): string {
  const workers = options.workers ?? 3;
  const created = `${options.date.slice(0, 4)}-${options.date.slice(4, 6)}-${options.date.slice(6, 8)}`;
  const people = Array.from({ length: workers }, (_, i) => worker(i)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<DmfAOriginal>
  <Form>
    <Identification>DMFA</Identification>
    <FormCreationDate>${created}</FormCreationDate>
    <FormCreationHour>10:00:00.000</FormCreationHour>
    <AttestationStatus>0</AttestationStatus>
    <TypeForm>SU</TypeForm>
    <Reference>
      <ReferenceType>1</ReferenceType>
      <ReferenceOrigin>1</ReferenceOrigin>
      <ReferenceNbr>DEMO-${options.date}-0001</ReferenceNbr>
    </Reference>
    <EmployerDeclaration>
      <Quarter>${options.quarter}</Quarter>
      <NOSSRegistrationNbr>0123456789</NOSSRegistrationNbr>
      <Trusteeship>0</Trusteeship>
      <CompanyID>0123456749</CompanyID>
      <NetOwedAmount>0</NetOwedAmount>
      <System5>0</System5>
      <HolidayCurrency>EUR</HolidayCurrency>
      <ActivityWithRisk>0</ActivityWithRisk>
${people}    </EmployerDeclaration>
  </Form>
</DmfAOriginal>
`;
}
