-- RECONSTRUCTED test schema for rtcdb's opt-in real-server tier (RTCDB_TEST_DSN); this is NOT
-- Microsoft's DDL. Two sections: OCS 2007 R2 (rtc layout) first, Lync 2010+ (rtcab layout) after
-- the "-- LAYOUT rtcab" line; each test runs one section. The first recreates, in the current
-- database, the tables of the OCS 2007 R2 back end
-- that rtcdb reads and writes, as far as public documentation and admin scripts describe them
-- (see docs/rtcdb.md):
--   AbUserEntry(UserGuid, UserData)      [DOC]; uniqueidentifier / image are INFERRED
--   AbAttribute(ID, Name, Flags)         [DOC]; int / nvarchar / int are INFERRED
--   Resource(ResourceId, UserAtHost)     [SCRIPT]; types INFERRED
--   ResourcePhone(ResourceId, PhoneNum)  [SCRIPT]; types INFERRED
-- Run it against a scratch database only: it drops and recreates these tables. Batches are
-- separated by GO lines (the tests split on them).

IF OBJECT_ID(N'dbo.AbDnMapping', N'U') IS NOT NULL DROP TABLE dbo.AbDnMapping; -- left by the rtcab section
IF OBJECT_ID(N'dbo.AbUserEntry', N'U') IS NOT NULL DROP TABLE dbo.AbUserEntry;
IF OBJECT_ID(N'dbo.AbAttribute', N'U') IS NOT NULL DROP TABLE dbo.AbAttribute;
IF OBJECT_ID(N'dbo.ResourcePhone', N'U') IS NOT NULL DROP TABLE dbo.ResourcePhone;
IF OBJECT_ID(N'dbo.Resource', N'U') IS NOT NULL DROP TABLE dbo.Resource;
GO

CREATE TABLE dbo.AbUserEntry (
    UserGuid uniqueidentifier NOT NULL PRIMARY KEY,
    UserData image NULL
);
GO

CREATE TABLE dbo.AbAttribute (
    ID    int           NOT NULL PRIMARY KEY,
    Name  nvarchar(256) NOT NULL,
    Flags int           NOT NULL
);
GO

CREATE TABLE dbo.Resource (
    ResourceId int           NOT NULL PRIMARY KEY,
    UserAtHost nvarchar(454) NOT NULL
);
GO

CREATE TABLE dbo.ResourcePhone (
    ResourceId int           NOT NULL,
    PhoneNum   nvarchar(256) NOT NULL
);
GO

-- The OCS 2007 default AbAttribute rows (ms-abs section 6.2); Flags as signed int. One INSERT per
-- row: SQL Server 2005 has no multi-row VALUES.
INSERT INTO dbo.AbAttribute (ID, Name, Flags) VALUES (1, N'msExchHideFromAddressLists', -16777213); -- 0xFF000003
INSERT INTO dbo.AbAttribute (ID, Name, Flags) VALUES (2, N'givenName', 16777216); -- 0x01000000
INSERT INTO dbo.AbAttribute (ID, Name, Flags) VALUES (3, N'sn', 33554432); -- 0x02000000
INSERT INTO dbo.AbAttribute (ID, Name, Flags) VALUES (4, N'displayName', 50462720); -- 0x03020000
INSERT INTO dbo.AbAttribute (ID, Name, Flags) VALUES (5, N'title', 67108864); -- 0x04000000
INSERT INTO dbo.AbAttribute (ID, Name, Flags) VALUES (6, N'mailNickname', 83887104); -- 0x05000400
INSERT INTO dbo.AbAttribute (ID, Name, Flags) VALUES (7, N'company', 100663296); -- 0x06000000
INSERT INTO dbo.AbAttribute (ID, Name, Flags) VALUES (8, N'physicalDeliveryOfficeName', 117440512); -- 0x07000000
GO

-- Test fixtures, the same as the responder tier's fake back end (rtcdb/rtcdbtest).
INSERT INTO dbo.Resource (ResourceId, UserAtHost) VALUES (1001, N'alice@contoso.com');
INSERT INTO dbo.ResourcePhone (ResourceId, PhoneNum) VALUES (1001, N'tel:+14255550100');
GO

-- LAYOUT rtcab
-- The Lync Server 2010+ / Skype for Business rtcab layout. TestScenariosABRealServer runs only
-- this section (after the marker line above); TestScenariosRealServer only the part before it.
-- RECONSTRUCTED from public admin scripts [SCRIPT] that join AbUserEntry(UserId, UserGuid, ...) to
-- AbDnMapping(UserId, AdDn); the column types, the IDENTITY on UserId and the keys are INFERRED.
-- Resource and ResourcePhone (read from the rtc database on Lync too) are recreated here as well.

IF OBJECT_ID(N'dbo.AbDnMapping', N'U') IS NOT NULL DROP TABLE dbo.AbDnMapping;
IF OBJECT_ID(N'dbo.AbUserEntry', N'U') IS NOT NULL DROP TABLE dbo.AbUserEntry;
IF OBJECT_ID(N'dbo.AbAttribute', N'U') IS NOT NULL DROP TABLE dbo.AbAttribute;
IF OBJECT_ID(N'dbo.ResourcePhone', N'U') IS NOT NULL DROP TABLE dbo.ResourcePhone;
IF OBJECT_ID(N'dbo.Resource', N'U') IS NOT NULL DROP TABLE dbo.Resource;
GO

CREATE TABLE dbo.AbUserEntry (
    UserId   int IDENTITY(1,1) NOT NULL PRIMARY KEY,
    UserGuid uniqueidentifier  NOT NULL UNIQUE,
    UserData varbinary(max)    NULL
);
GO

CREATE TABLE dbo.AbDnMapping (
    UserId int            NOT NULL PRIMARY KEY,
    AdDn   nvarchar(2048) NOT NULL
);
GO

CREATE TABLE dbo.AbAttribute (
    ID     int           NOT NULL PRIMARY KEY,
    Name   nvarchar(256) NOT NULL,
    Flags  int           NOT NULL,
    Enable bit           NOT NULL
);
GO

CREATE TABLE dbo.Resource (
    ResourceId int           NOT NULL PRIMARY KEY,
    UserAtHost nvarchar(454) NOT NULL
);
GO

CREATE TABLE dbo.ResourcePhone (
    ResourceId int           NOT NULL,
    PhoneNum   nvarchar(256) NOT NULL
);
GO

INSERT INTO dbo.AbAttribute (ID, Name, Flags, Enable) VALUES (1, N'msExchHideFromAddressLists', -16777213, 1);
INSERT INTO dbo.AbAttribute (ID, Name, Flags, Enable) VALUES (4, N'displayName', 50462720, 1);
INSERT INTO dbo.AbAttribute (ID, Name, Flags, Enable) VALUES (19, N'proxyAddresses', 5243141, 0);
INSERT INTO dbo.Resource (ResourceId, UserAtHost) VALUES (1001, N'alice@contoso.com');
INSERT INTO dbo.ResourcePhone (ResourceId, PhoneNum) VALUES (1001, N'tel:+14255550100');
GO
